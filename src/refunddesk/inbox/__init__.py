"""Staff notices: what needs a staff member, in the console's inbox and by e-mail."""

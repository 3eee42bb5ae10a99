"""The site's frame: home page, base template, and the `demo` and `serve` commands."""

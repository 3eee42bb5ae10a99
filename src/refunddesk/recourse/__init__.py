"""Where a customer may turn after a final "no": the text the merchant keeps per country and
language, which the case page, /track and the closing e-mail show."""

-- The sensor name a token's posted events carry (#26 item 4: evidence cannot be
-- forged). NULL: the token's own name, which was the default before; a posted
-- event naming another sensor is refused, so a token cannot write as a honeypot
-- of this server or as another token's sensor.
ALTER TABLE api_tokens ADD COLUMN sensor TEXT;

"""What every feature stands on: settings, database and schema, logging, redaction, retries, Rasa stores."""

"""AI answers from the business's knowledge files through OpenAI."""

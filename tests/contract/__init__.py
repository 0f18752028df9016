"""The Images API contract as OpenAI's OpenAPI spec states it (see ``schemas``)."""

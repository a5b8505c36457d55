"""What callers hand us becomes storable and free of secrets: safe text, bounded fields,
redaction."""

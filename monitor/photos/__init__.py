"""Photos as evidence: text read from images (OCR) and copies traced to their first post."""

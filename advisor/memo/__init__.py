"""memo layer."""

"""Email to customers: what is sent when, how it is written, and how it goes out (SES)."""

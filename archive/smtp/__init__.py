"""The SMTP journaling endpoint: mail servers hand over copies of mail, each archived as sent."""

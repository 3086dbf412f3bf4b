"""The pages' words by area, for `archive.web.i18n` to merge."""

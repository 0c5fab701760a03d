"""The console's one date format, for what Django renders itself (read-only date fields,
``{{ value|date }}``): the same as ``paylinks.admin.display`` ("2 Dec 2026, 14:05 CET").
English only; other languages keep Django's own formats."""

DATE_FORMAT = "j M Y"
DATETIME_FORMAT = "j M Y, H:i T"
SHORT_DATE_FORMAT = "j M Y"
SHORT_DATETIME_FORMAT = "j M Y, H:i T"
TIME_FORMAT = "H:i"
MONTH_DAY_FORMAT = "j M"
YEAR_MONTH_FORMAT = "M Y"

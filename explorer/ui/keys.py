"""Widget keys shared across pages (each page's own keys live next to its widgets as constants)."""

SIDEBAR_MODEL = "sidebar.model"
SIDEBAR_SLIDE_THEME = "sidebar.slide_theme"

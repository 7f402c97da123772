"""The demo source's constants and its mapping table (source status -> ACGS2 status)."""
from ..model import Priority, Status

PAGE_SIZE = 100
SIZES = {"small": 50, "medium": 1_500, "large": 100_000}
# The console's one-click demos: name -> (project, size, items a project that fail the first read).
# "clean" ends Succeeded; "failures" shows the failure report and "Retry failed items" on its own project.
ONE_CLICK = {"clean": ("ACME", "small", 0), "failures": ("OPS", "small", 3)}
# How a one-click demo reads: items a second and items a batch, so its 50 items take about 5 s and the progress
# view, which refreshes every 2 s, shows the bar move and the rate chart fill (read at full speed, the import
# had ended before the view first showed it)
ONE_CLICK_PACE, ONE_CLICK_BATCH = 10, 10

PROJECTS = (
    ("ACME", "Acme web app", "Customer-facing web application: checkout, accounts, search."),
    ("OPS", "Operations", "Infrastructure, on-call and internal tooling."),
    ("MOBILE", "Mobile apps", "iOS and Android clients."),
)

STATUS_MAP = {
    "Backlog": Status.BACKLOG,
    "Selected for Development": Status.TODO,
    "To Do": Status.TODO,
    "In Progress": Status.IN_PROGRESS,
    "In Review": Status.IN_PROGRESS,
    "Done": Status.DONE,
    "Won't Do": Status.CANCELLED,
}

PRIORITY_MAP = {
    "Highest": Priority.URGENT,
    "High": Priority.HIGH,
    "Medium": Priority.MEDIUM,
    "Low": Priority.LOW,
    "None": Priority.NONE,
}

TYPES = ("task", "bug", "story", "bug", "task", "epic")

PEOPLE = (
    ("Ada Lovelace", "ada@acme.example"), ("Grace Hopper", "grace@acme.example"),
    ("Alan Turing", "alan@acme.example"), ("Katherine Johnson", "katherine@acme.example"),
    ("Linus Torvalds", "linus@acme.example"), ("Margaret Hamilton", "margaret@acme.example"),
    ("Dennis Ritchie", "dennis@acme.example"), ("Barbara Liskov", "barbara@acme.example"),
    ("Ken Thompson", "ken@acme.example"), ("Frances Allen", "frances@acme.example"),
    ("Edsger Dijkstra", "edsger@acme.example"), ("Radia Perlman", "radia@acme.example"),
    ("Donald Knuth", "donald@acme.example"), ("Shafi Goldwasser", "shafi@acme.example"),
    ("Tim Berners-Lee", "tim@acme.example"), ("Hedy Lamarr", "hedy@acme.example"),
    ("John McCarthy", "john@acme.example"), ("Adele Goldberg", "adele@acme.example"),
    ("Vint Cerf", "vint@acme.example"), ("Annie Easley", "annie@acme.example"),
    ("Ward Cunningham", "ward@acme.example"), ("Sophie Wilson", "sophie@acme.example"),
)

LABELS = ["backend", "frontend", "api", "security", "performance", "ux", "billing",
          "search", "infra", "docs", "regression", "customer", "tech-debt", "mobile"]

VERBS = ("Fix", "Add", "Improve", "Refactor", "Investigate", "Document", "Speed up",
         "Remove", "Migrate", "Harden", "Design", "Test")
NOUNS = ("checkout flow", "login page", "search ranking", "invoice export", "password reset",
         "rate limiter", "audit log", "notification emails", "onboarding tour", "dark mode",
         "CSV import", "API pagination", "session timeout", "mobile push", "billing webhooks",
         "SSO with Okta", "cache invalidation", "release pipeline", "error budget alerts",
         "accessibility of forms")

DESCRIPTIONS = (
    "Customers report that the page **hangs** after submitting.\n\n1. Open the page\n2. Submit\n3. Wait",
    "We should do this before the Q3 launch. See the design doc for details.",
    "Steps to reproduce:\n\n- sign in as an admin\n- open *Settings*\n- click `Save`\n\nExpected: saved.",
    "",
    "Follow-up from the incident review. Owners: platform team.",
    "Acceptance criteria:\n\n- [ ] works on mobile\n- [ ] covered by tests\n- [ ] documented",
)

COMMENT_SENTENCES = (
    "I can reproduce this on staging.", "Fixed in the latest build, please verify.",
    "Can we split this into two tickets?", "Adding this to the next sprint.",
    "The root cause is a missing index on the orders table.", "Looks good to me.",
    "Blocked until the API change ships.", "Customer confirmed the fix works.",
)

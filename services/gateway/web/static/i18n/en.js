// English. The same keys as zh-CN.js (tests/unit/gateway/test_web.py checks);
// strict JSON in the object. Placeholders: {name}; never | or @.
export default {
  "app": {
    "name": "Dealerflow",
    "tagline": "Lead follow-up"
  },
  "bar": {
    "back": "Back",
    "signOut": "Sign out",
    "language": "Language"
  },
  "connection": {
    "offline": "Connection lost. Retrying…"
  },
  "signin": {
    "title": "Sign in",
    "username": "Username",
    "password": "Password",
    "submit": "Sign in",
    "submitting": "Signing in…",
    "wrong": "Wrong username or password.",
    "locked": "Too many attempts: the account is locked for now. Try again in {minutes} min.",
    "offline": "The server cannot be reached. Check your connection and try again.",
    "failed": "Could not sign in: {reason}",
    "signedOut": "You have signed out."
  },
  "expired": {
    "title": "Your session has expired",
    "body": "For your security, please sign in again.",
    "again": "Sign in again"
  },
  "notFound": {
    "title": "Page not found",
    "home": "Back to the leads"
  },
  "leads": {
    "mine": "My leads",
    "store": "Store leads",
    "all": "All leads",
    "filters": "Filter leads",
    "status": "Status",
    "anyStatus": "Any status",
    "search": "Search",
    "searchHint": "Name, phone or model",
    "loading": "Loading…",
    "empty": "No leads yet. New leads appear here by themselves.",
    "more": "Load more",
    "new": "New",
    "arrived": "New lead: {name}",
    "failed": "Could not load the leads: {reason}"
  },
  "clock": {
    "left": "{time} left",
    "overdue": "{minutes} min overdue",
    "overdueHours": "{hours} h overdue",
    "contacted": "Contacted"
  },
  "lead": {
    "title": "Lead",
    "call": "Call {phone}",
    "unavailable": "Some details cannot be loaded right now; refresh later.",
    "notFound": "This lead does not exist or is outside what you may see.",
    "customer": "Customer",
    "name": "Name",
    "phone": "Phone",
    "email": "Email",
    "city": "City",
    "interest": "Interest",
    "vehicle": "Vehicle",
    "budget": "Budget",
    "timeframe": "Buying within",
    "finance": "Finance",
    "testDrive": "Test drive",
    "tradeIn": "Trade-in",
    "comments": "Comments",
    "noComments": "No comments",
    "details": "Lead details",
    "status": "Status",
    "store": "Store",
    "channel": "Channel",
    "source": "Source",
    "provider": "Sent by",
    "consultant": "Consultant",
    "unassigned": "Unassigned",
    "received": "Received",
    "receivedNote": "About the time received",
    "due": "First contact due",
    "assignments": "Assignment history",
    "noAssignments": "No assignments yet",
    "tasks": "Tasks",
    "noTasks": "No tasks",
    "taskDue": "due {time}",
    "yes": "Yes",
    "no": "No"
  },
  "status": {
    "accepted": "Waiting",
    "assigned": "Assigned",
    "contacted": "Contacted",
    "won": "Won",
    "lost": "Lost"
  },
  "channel": {
    "website": "Website",
    "third_party": "Listing site",
    "auto_show": "Auto show",
    "referral": "Referral",
    "walk_in": "Walk-in",
    "phone": "Phone",
    "social": "Social media",
    "other": "Other"
  },
  "timeframe": {
    "within_7_days": "7 days",
    "within_15_days": "15 days",
    "within_30_days": "30 days",
    "within_3_months": "3 months"
  },
  "reason": {
    "round_robin": "Round robin",
    "reassigned": "Reassigned",
    "sla_breach": "Re-routed: overdue"
  },
  "task": {
    "first_contact": "First contact",
    "followup": "Follow-up",
    "open": "Open",
    "done": "Done",
    "overdue": "Overdue"
  }
};

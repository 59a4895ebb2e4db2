from dealerflow.runner import run  # first: it monkey-patches eventlet

run("services.followups.service:FollowupsService")

from dealerflow.runner import run  # first: it monkey-patches eventlet

run("services.notifications.service:NotificationsService")

"""Two replicas of a service's timer at once, as threads with their own sessions."""
import threading


def race(sessions, work, replicas: int = 2, timeout: float = 120) -> None:
    """Run ``work(session)`` in ``replicas`` threads at once, each with a
    session of its own. Any error fails the test but the database refusing
    one of them its lock (the other did the work; the test then checks that
    nothing was done twice or left undone)."""
    failures = []

    def run():
        try:
            with sessions() as session:
                work(session)
        except Exception as exc:  # reported below
            failures.append(exc)

    threads = [threading.Thread(target=run) for _ in range(replicas)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout)
    assert not failures or all("lock" in str(exc).lower() for exc in failures), failures

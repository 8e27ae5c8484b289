"""A WSGI app that answers /sleep?SECONDS after sleeping, and anything else with a token of its start (in
the sandbox's PID namespace every instance's process ids are alike): for the tests of function settings."""
import os, time

START = os.urandom(8).hex()

def app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    if environ["PATH_INFO"] == "/sleep":
        time.sleep(float(environ["QUERY_STRING"]))
        return [b"slept"]
    return [START.encode()]

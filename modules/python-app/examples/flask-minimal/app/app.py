"""The smallest Flask app: answers with its greeting, the target it runs as and its version."""
import os

from flask import Flask

VERSION = "1"

app = Flask(__name__)


@app.get("/")
def index():
    greeting = os.environ.get("GREETING", "Hello")
    return f"{greeting} from {os.environ.get('VERCEL_ENV', 'local')}, v{VERSION}\n"

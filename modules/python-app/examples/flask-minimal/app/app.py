"""The smallest Flask app: answers with its greeting and the target it runs as."""
import os

from flask import Flask

app = Flask(__name__)


@app.get("/")
def index():
    greeting = os.environ.get("GREETING", "Hello")
    return f"{greeting} from {os.environ.get('VERCEL_ENV', 'local')}\n"

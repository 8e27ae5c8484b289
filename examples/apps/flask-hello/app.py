"""A small Flask app: shows its version and the env ferry gave it."""
import os

from flask import Flask, jsonify

VERSION = "1"

app = Flask(__name__)


@app.get("/")
def index():
    greeting = os.environ.get("GREETING", "hello")
    return f"{greeting} from flask-hello v{VERSION} ({os.environ.get('VERCEL_ENV', 'local')})\n"


@app.get("/env")
def env():
    return jsonify(
        version=VERSION,
        greeting=os.environ.get("GREETING"),
        api_key_set=bool(os.environ.get("API_KEY")),
        vercel_env=os.environ.get("VERCEL_ENV"),
        vercel_url=os.environ.get("VERCEL_URL"),
        deployment_id=os.environ.get("VERCEL_DEPLOYMENT_ID"),
    )

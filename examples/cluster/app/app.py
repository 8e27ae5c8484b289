"""The cluster example's app: says which release it is."""
from flask import Flask

RELEASE = "1"

app = Flask(__name__)


@app.get("/")
def index():
    return f"release {RELEASE}\n"

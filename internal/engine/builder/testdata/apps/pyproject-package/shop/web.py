from flask import Flask

app = Flask(__name__)


@app.get("/")
def index():
    return "index"


@app.get("/hello")
def hello():
    return "hello"

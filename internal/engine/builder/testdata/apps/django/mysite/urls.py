from django.http import HttpResponse
from django.urls import path


def hello(request):
    return HttpResponse("hello from django")


urlpatterns = [path("", hello)]

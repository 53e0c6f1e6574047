from django.urls import path

from policies import views

app_name = "policies"
urlpatterns = [
    path("", views.library, name="library"),
    path("<slug:key>/", views.document_detail, name="document"),
]

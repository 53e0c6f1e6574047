from django.urls import path

from enterprises import views, views_items, views_staff

app_name = "enterprises"
urlpatterns = [
    path("", views.index, name="index"),
    path("import/", views_staff.import_enterprises, name="import"),
    path("import/<int:job_id>/", views_staff.import_job, name="import_job"),
    path("import/<int:job_id>/confirm/", views_staff.confirm_import, name="confirm_import"),
    path("export/", views_staff.export_enterprises, name="export"),
    path("registrations/", views_staff.registrations, name="registrations"),
    # enterprise-scoped pages: 404 for anyone but the enterprise's users and staff
    path("<int:pk>/", views.profile, name="profile"),
    path("<int:pk>/edit/", views.edit_profile, name="edit"),
    path("<int:pk>/figures/", views.figures, name="figures"),
    path("<int:pk>/recognitions/", views.recognitions, name="recognitions"),
    path("<int:pk>/projects/", views.projects, name="projects"),
    path("<int:pk>/facts/", views.fact_values, name="fact_values"),
    path("<int:pk>/items/add/", views_items.add_item, name="add_item"),
    path("<int:pk>/items/add/<slug:kind>/", views_items.add_item_of_kind, name="add_item_of_kind"),
    path("<int:pk>/items/<int:item_id>/edit/", views_items.edit_item, name="edit_item"),
    path("<int:pk>/items/<int:item_id>/delete/", views_items.delete_item, name="delete_item"),
    path("<int:pk>/<str:table>/<int:row_pk>/delete/", views.delete_row, name="delete_row"),
]

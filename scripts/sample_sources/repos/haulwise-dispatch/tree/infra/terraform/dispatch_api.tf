resource "heroku_app" "dispatch_api" {
  name   = "haulwise-dispatch-api"
  region = "eu"
}

resource "heroku_formation" "dispatch_api_web" {
  app_id   = heroku_app.dispatch_api.id
  type     = "web"
  quantity = 4
  size     = "performance-m"
}

resource "heroku_addon" "dispatch_api_db" {
  app_id = heroku_app.dispatch_api.id
  plan   = "heroku-postgresql:standard-2"
}

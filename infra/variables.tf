variable "name" {
  description = "Base name of every resource (lowercase letters and digits). Function App, storage, PostgreSQL and App Configuration names are global in Azure, so pick something unique, e.g. \"signalfnprod\"."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9]{2,15}$", var.name))
    error_message = "name must be 3-16 lowercase letters and digits, starting with a letter."
  }
}

variable "location" {
  description = "Azure region; it must offer the Flex Consumption plan."
  type        = string
  default     = "westeurope"
}

variable "postgres_admin_login" {
  description = "Administrator login of the PostgreSQL flexible server."
  type        = string
  default     = "signaladmin"
}

variable "postgres_admin_password" {
  description = "Administrator password of the PostgreSQL flexible server (also put into ConnectionStrings__Signal)."
  type        = string
  sensitive   = true
}

variable "postgres_sku" {
  description = "Compute of the PostgreSQL flexible server."
  type        = string
  default     = "GP_Standard_D2ds_v5"
}

variable "timer_schedules" {
  description = "One app setting per timer, {Name}Schedule: 6-field NCRONTAB (sec min hour day month weekday, UTC); the worker's function metadata declares each timer's schedule as %%{Name}Schedule% and the host refuses a timer whose setting is missing."
  type        = map(string)
  default = {
    BackfillSchedule     = "0 */1 * * * *"
    ParitySchedule       = "0 */15 * * * *"
    RepairSchedule       = "0 */1 * * * *"
    RefreshViewsSchedule = "0 */5 * * * *"
    GuardSchedule        = "0 */1 * * * *"
    PartitionsSchedule   = "0 17 * * * *"
  }
}

variable "migration_arguments" {
  description = "Per-migration arguments a declaration reads (DataMigration.Arguments), as Migrations__Arguments__{migration}__{argument}: e.g. how many days back intelligence-events and kpi-history backfill and compare."
  type        = map(map(number))
  default = {
    "intelligence-events" = { windowDays = 90 }
    "kpi-history"         = { windowDays = 90 }
  }
}

variable "allowed_origins" {
  description = "Browser origins allowed to send events (Ingest__AllowedOrigins__N), e.g. [\"https://www.example.com\"]."
  type        = list(string)
  default     = []
}

variable "webhook_secret" {
  description = "Clicks__WebhookSecret: shared secret of the click qualification webhook (HMAC-SHA256 of the body)."
  type        = string
  sensitive   = true
}

variable "flag_push" {
  description = "Create the Event Grid subscription that pushes App Configuration changes to /api/flags/changed (every instance follows a stage change within a second; without it, within Flags__RefreshSeconds). Event Grid validates the webhook on creation: turn it on after the first deploy of the package."
  type        = bool
  default     = false
}

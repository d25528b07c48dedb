# SignalFunctions in Azure: a .NET isolated worker Function App (dotnet-isolated 10.0) on the Flex
# Consumption plan (Linux), Azure Database for PostgreSQL flexible server, an App Configuration
# store for the stage flags, Application Insights (workspace-based) for the host's and the worker's
# telemetry, and the storage account the Functions host needs (AzureWebJobsStorage: timer schedule
# status and singleton leases, keys) and Flex Consumption deploys from.

resource "azurerm_resource_group" "this" {
  name     = "${var.name}-rg"
  location = var.location
}

resource "azurerm_storage_account" "this" {
  name                            = "${var.name}st"
  resource_group_name             = azurerm_resource_group.this.name
  location                        = azurerm_resource_group.this.location
  account_tier                    = "Standard"
  account_replication_type        = "LRS"
  min_tls_version                 = "TLS1_2"
  allow_nested_items_to_be_public = false
}

# Flex Consumption runs the deployed zip from this container.
resource "azurerm_storage_container" "deployments" {
  name                  = "deployments"
  storage_account_id    = azurerm_storage_account.this.id
  container_access_type = "private"
}

resource "azurerm_service_plan" "this" {
  name                = "${var.name}-plan"
  resource_group_name = azurerm_resource_group.this.name
  location            = azurerm_resource_group.this.location
  os_type             = "Linux"
  sku_name            = "FC1"
}

resource "azurerm_postgresql_flexible_server" "this" {
  name                          = "${var.name}-pg"
  resource_group_name           = azurerm_resource_group.this.name
  location                      = azurerm_resource_group.this.location
  version                       = "16"
  sku_name                      = var.postgres_sku
  storage_mb                    = 65536
  backup_retention_days         = 14
  administrator_login           = var.postgres_admin_login
  administrator_password        = var.postgres_admin_password
  public_network_access_enabled = true

  lifecycle {
    # Azure places the server in a zone of its choosing; don't fight it on every plan.
    ignore_changes = [zone]
  }
}

resource "azurerm_postgresql_flexible_server_database" "signal" {
  name      = "signal"
  server_id = azurerm_postgresql_flexible_server.this.id
  charset   = "UTF8"
  collation = "en_US.utf8"
}

# 0.0.0.0-0.0.0.0 is "allow Azure services": Flex Consumption instances have no fixed outbound
# address without VNet integration. For production, integrate the app with a VNet and give the
# server private access instead.
resource "azurerm_postgresql_flexible_server_firewall_rule" "azure_services" {
  name             = "allow-azure-services"
  server_id        = azurerm_postgresql_flexible_server.this.id
  start_ip_address = "0.0.0.0"
  end_ip_address   = "0.0.0.0"
}

resource "azurerm_app_configuration" "this" {
  name                = "${var.name}-appcs"
  resource_group_name = azurerm_resource_group.this.name
  location            = azurerm_resource_group.this.location
  sku                 = "standard"
}

# Logs and telemetry: the Functions host, and the worker through
# Microsoft.Azure.Functions.Worker.ApplicationInsights, send to this workspace-based Application
# Insights resource; both read APPLICATIONINSIGHTS_CONNECTION_STRING (set from site_config below).
resource "azurerm_log_analytics_workspace" "this" {
  name                = "${var.name}-log"
  resource_group_name = azurerm_resource_group.this.name
  location            = azurerm_resource_group.this.location
  sku                 = "PerGB2018"
  retention_in_days   = 30
}

resource "azurerm_application_insights" "this" {
  name                = "${var.name}-appi"
  resource_group_name = azurerm_resource_group.this.name
  location            = azurerm_resource_group.this.location
  workspace_id        = azurerm_log_analytics_workspace.this.id
  application_type    = "web"
}

resource "azurerm_function_app_flex_consumption" "this" {
  name                = "${var.name}-func"
  resource_group_name = azurerm_resource_group.this.name
  location            = azurerm_resource_group.this.location
  service_plan_id     = azurerm_service_plan.this.id
  https_only          = true

  # The .NET isolated worker (framework-dependent SignalFunctions.dll: the platform supplies .NET).
  # On Flex Consumption this is functionAppConfig.runtime, which takes the place of the
  # FUNCTIONS_WORKER_RUNTIME=dotnet-isolated app setting (the plan refuses that setting).
  # The project targets net10.0, so 10.0 is required; Flex Consumption offers dotnet-isolated 10.0,
  # with 9.0 and 8.0 as the fall-backs if a region lacks it (which would mean retargeting the project).
  runtime_name    = "dotnet-isolated"
  runtime_version = "10.0"

  # The provider also writes AzureWebJobsStorage from this key, so the host gets its storage too:
  # timers keep their schedule status (ScheduleStatus, IsPastDue) and their singleton lease there
  # (one run of a timer at a time across instances), and function keys live there.
  storage_container_type      = "blobContainer"
  storage_container_endpoint  = "${azurerm_storage_account.this.primary_blob_endpoint}${azurerm_storage_container.deployments.name}"
  storage_authentication_type = "StorageAccountConnectionString"
  storage_access_key          = azurerm_storage_account.this.primary_access_key

  maximum_instance_count = 40
  instance_memory_in_mb  = 2048

  identity {
    type = "SystemAssigned"
  }

  # No platform CORS: the app answers CORS itself for Ingest__AllowedOrigins (platform CORS would
  # take over the preflight and hide the app's 403 for other origins).
  site_config {
    # The provider writes this as the APPLICATIONINSIGHTS_CONNECTION_STRING app setting (and reads it
    # back from there: don't also put it in app_settings).
    application_insights_connection_string = azurerm_application_insights.this.connection_string
  }

  app_settings = merge(
    {
      ConnectionStrings__Signal = "Host=${azurerm_postgresql_flexible_server.this.fqdn};Port=5432;Database=${azurerm_postgresql_flexible_server_database.signal.name};Username=${var.postgres_admin_login};Password=${var.postgres_admin_password};SSL Mode=Require"
      Clicks__WebhookSecret     = var.webhook_secret
      # Read and written with the app's managed identity (App Configuration Data Owner, below).
      AppConfig__Endpoint = azurerm_app_configuration.this.endpoint
    },
    { for i, origin in var.allowed_origins : "Ingest__AllowedOrigins__${i}" => origin },
    # '_' for '-' in the migration's name: Linux app setting names allow no '-' (the app maps it back).
    merge([for migration, arguments in var.migration_arguments : {
      for name, value in arguments : "Migrations__Arguments__${replace(migration, "-", "_")}__${name}" => tostring(value)
    }]...),
    # The worker's function metadata declares each timer's schedule as %{Name}Schedule% (e.g.
    # [TimerTrigger("%RepairSchedule%")]); the host resolves it from these settings and refuses a
    # timer whose setting is missing.
    var.timer_schedules,
  )
}

# Data Owner, not Reader: the Guard timer steps a failing stage back by writing its flag (issue 4 §5).
resource "azurerm_role_assignment" "app_configuration_owner" {
  scope                = azurerm_app_configuration.this.id
  role_definition_name = "App Configuration Data Owner"
  principal_id         = azurerm_function_app_flex_consumption.this.identity[0].principal_id
}

# The deploying identity writes the initial stage flags below (key-values are data-plane writes).
data "azurerm_client_config" "current" {}

resource "azurerm_role_assignment" "deployer_app_configuration_owner" {
  scope                = azurerm_app_configuration.this.id
  role_definition_name = "App Configuration Data Owner"
  principal_id         = data.azurerm_client_config.current.object_id
}

# One stage flag per migration, created at off in the format ./run.sh stage writes
# (src/SignalFunctions/Flags/AppConfiguration/StageFeatureFlag.cs): without a flag a migration has
# no stage and its ingest answers 503. Terraform creates them once; from then on the portal's
# Feature manager, ./run.sh stage and the guard own the value.
resource "azurerm_app_configuration_key" "stage_flag" {
  for_each               = toset(["signal-events", "signal-metrics", "signal-embeds", "signal-saves", "click-events", "brand-metrics", "intelligence-events", "kpi-history", "content-queue"])
  configuration_store_id = azurerm_app_configuration.this.id
  key                    = ".appconfig.featureflag/SignalFunctions.${each.key}"
  content_type           = "application/vnd.microsoft.appconfig.ff+json;charset=utf-8"
  value = jsonencode({
    id          = "SignalFunctions.${each.key}"
    description = "Stage of the ${each.key} migration. The variant is the stage; a percentile allocation moves that share of journeys to it, the rest stay on the previous stage."
    enabled     = true
    conditions  = { client_filters = [] }
    variants    = [for stage in ["off", "dual_write", "shadow", "live", "rampdown", "complete"] : { name = stage }]
    allocation = {
      percentile            = [{ variant = "off", from = 0, to = 100 }]
      default_when_enabled  = "off"
      default_when_disabled = "off"
      seed                  = "SignalFunctions.${each.key}"
    }
  })

  lifecycle {
    ignore_changes = [value, tags, locked]
  }

  depends_on = [azurerm_role_assignment.deployer_app_configuration_owner]
}

# The Event Grid push of flag changes (FlagsChanged, /api/flags/changed): every instance re-reads
# the flags within a second of a change instead of at its next poll (Flags__RefreshSeconds). Event
# Grid validates the webhook when the subscription is created, so the app must already answer:
# apply once with flag_push = false, deploy the package, then apply again with flag_push = true.
resource "azurerm_eventgrid_system_topic" "app_configuration" {
  count               = var.flag_push ? 1 : 0
  name                = "${var.name}-appcs-events"
  resource_group_name = azurerm_resource_group.this.name
  location            = azurerm_resource_group.this.location
  source_resource_id  = azurerm_app_configuration.this.id
  topic_type          = "Microsoft.AppConfiguration.ConfigurationStores"
}

# The function's key (AuthorizationLevel.Function) travels in the URL, as Event Grid webhooks carry it.
data "azurerm_function_app_host_keys" "this" {
  count               = var.flag_push ? 1 : 0
  name                = azurerm_function_app_flex_consumption.this.name
  resource_group_name = azurerm_resource_group.this.name
}

resource "azurerm_eventgrid_system_topic_event_subscription" "flags_changed" {
  count               = var.flag_push ? 1 : 0
  name                = "flags-changed"
  system_topic        = azurerm_eventgrid_system_topic.app_configuration[0].name
  resource_group_name = azurerm_resource_group.this.name
  # Stage flags and SignalFunctions: settings; the app ignores keys that are not its own.
  included_event_types = ["Microsoft.AppConfiguration.KeyValueModified", "Microsoft.AppConfiguration.KeyValueDeleted"]

  webhook_endpoint {
    url = "https://${azurerm_function_app_flex_consumption.this.default_hostname}/api/flags/changed?code=${data.azurerm_function_app_host_keys.this[0].default_function_key}"
  }
}

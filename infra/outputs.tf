output "function_app_name" {
  value = azurerm_function_app_flex_consumption.this.name
}

output "function_app_url" {
  value = "https://${azurerm_function_app_flex_consumption.this.default_hostname}/api"
}

output "resource_group_name" {
  value = azurerm_resource_group.this.name
}

output "postgres_fqdn" {
  value = azurerm_postgresql_flexible_server.this.fqdn
}

output "app_configuration_endpoint" {
  value = azurerm_app_configuration.this.endpoint
}

output "application_insights_name" {
  value = azurerm_application_insights.this.name
}

output "application_insights_connection_string" {
  value     = azurerm_application_insights.this.connection_string
  sensitive = true
}

terraform {
  required_version = ">= 1.6"

  required_providers {
    azurerm = {
      source = "hashicorp/azurerm"
      # azurerm_function_app_flex_consumption (runtime_name "dotnet-isolated",
      # site_config.application_insights_connection_string) exists from 4.21; the floor stays at 4.50.
      version = ">= 4.50, < 5.0"
    }
  }
}

provider "azurerm" {
  features {}
}

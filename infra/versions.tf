terraform {
  required_version = ">= 1.6"

  required_providers {
    azurerm = {
      source = "hashicorp/azurerm"
      # azurerm_function_app_flex_consumption accepts runtime_name "custom" only in recent 4.x releases.
      version = ">= 4.50, < 5.0"
    }
  }
}

provider "azurerm" {
  features {}
}

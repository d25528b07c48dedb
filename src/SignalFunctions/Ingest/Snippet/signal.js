/* placeholder: replaced by the snippet */

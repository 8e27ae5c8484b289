# A domain is imported as <project>/<name>, the project by name or id.
terraform import ferry_domain.www shop/www.example.com

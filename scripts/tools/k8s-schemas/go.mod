module sfbridge/scripts/tools/k8s-schemas

go 1.22

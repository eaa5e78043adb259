module wasmudf/guest/go

go 1.24

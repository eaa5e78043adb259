module wasmudf.test/go_reactor

go 1.24

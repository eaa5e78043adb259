module wasmudf.bench/goguest

go 1.24

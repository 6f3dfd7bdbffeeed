module github.com/nodetls/nodetls-go

go 1.21

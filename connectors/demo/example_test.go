package demo_test

import (
	"context"
	"fmt"

	"github.com/plaza-gateway/plaza/connectors"
	"github.com/plaza-gateway/plaza/connectors/demo"
)

// The default providers are deterministic: the same IDs and answers on every
// run, which this example also pins down.
func Example() {
	ctx := context.Background()
	conns, err := demo.Default()
	if err != nil {
		panic(err)
	}
	reg, err := connectors.NewRegistry(conns...)
	if err != nil {
		panic(err)
	}
	g, _ := reg.Grocery("freshcart")
	page, _ := g.SearchProducts(ctx, connectors.Query{Text: "jasmine rice", City: "hangzhou", First: 1})
	p := page.Items[0]
	fmt.Printf("%s %q at %s for %d fen, %d matches\n", p.ID, p.Name, p.StoreID, p.Price.Amount, page.Total)

	orders, _ := g.UserOrders(ctx, "demo-1")
	fmt.Println("demo-1 orders at freshcart:", len(orders), "newest", orders[0].ID, orders[0].Status)

	m, _ := reg.Medical("mediquick")
	docs, _ := m.SearchDoctors(ctx, connectors.Query{Text: "pediatrician", City: "Shanghai", First: 1})
	fmt.Println(docs.Items[0].ID, docs.Items[0].Specialty, docs.Items[0].Hospital)
	// Output:
	// p-000019 "Value Jasmine Rice" at s-01 for 4530 fen, 3 matches
	// demo-1 orders at freshcart: 26 newest o-000026 PLACED
	// d-0008 Paediatrics Shanghai Children's Hospital
}

package resolvers

import "github.com/plaza-gateway/plaza/graph"

// root is the graph.ResolverRoot the executor is given: every object's
// resolver made once. gqlgen's generated Resolver methods (Product(),
// Store(), ...) allocate a resolver per call, and the executor calls one per
// resolver field it resolves: once per product of a list for its store. An
// object added to the schema and not here is served by the embedded
// Resolver, as before.
type root struct {
	*Resolver
	analytics          graph.AnalyticsResolver
	appointment        graph.AppointmentResolver
	consultation       graph.ConsultationResolver
	doctor             graph.DoctorResolver
	govService         graph.GovServiceResolver
	groceryOrder       graph.GroceryOrderResolver
	lawyer             graph.LawyerResolver
	legalConsultation  graph.LegalConsultationResolver
	mutation           graph.MutationResolver
	office             graph.OfficeResolver
	orderItem          graph.OrderItemResolver
	product            graph.ProductResolver
	provider           graph.ProviderResolver
	query              graph.QueryResolver
	serviceApplication graph.ServiceApplicationResolver
	store              graph.StoreResolver
	user               graph.UserResolver
}

func newRoot(r *Resolver) *root {
	return &root{
		Resolver:           r,
		analytics:          r.Analytics(),
		appointment:        r.Appointment(),
		consultation:       r.Consultation(),
		doctor:             r.Doctor(),
		govService:         r.GovService(),
		groceryOrder:       r.GroceryOrder(),
		lawyer:             r.Lawyer(),
		legalConsultation:  r.LegalConsultation(),
		mutation:           r.Mutation(),
		office:             r.Office(),
		orderItem:          r.OrderItem(),
		product:            r.Product(),
		provider:           r.Provider(),
		query:              r.Query(),
		serviceApplication: r.ServiceApplication(),
		store:              r.Store(),
		user:               r.User(),
	}
}

func (r *root) Analytics() graph.AnalyticsResolver { return r.analytics }

func (r *root) Appointment() graph.AppointmentResolver { return r.appointment }

func (r *root) Consultation() graph.ConsultationResolver { return r.consultation }

func (r *root) Doctor() graph.DoctorResolver { return r.doctor }

func (r *root) GovService() graph.GovServiceResolver { return r.govService }

func (r *root) GroceryOrder() graph.GroceryOrderResolver { return r.groceryOrder }

func (r *root) Lawyer() graph.LawyerResolver { return r.lawyer }

func (r *root) LegalConsultation() graph.LegalConsultationResolver { return r.legalConsultation }

func (r *root) Mutation() graph.MutationResolver { return r.mutation }

func (r *root) Office() graph.OfficeResolver { return r.office }

func (r *root) OrderItem() graph.OrderItemResolver { return r.orderItem }

func (r *root) Product() graph.ProductResolver { return r.product }

func (r *root) Provider() graph.ProviderResolver { return r.provider }

func (r *root) Query() graph.QueryResolver { return r.query }

func (r *root) ServiceApplication() graph.ServiceApplicationResolver { return r.serviceApplication }

func (r *root) Store() graph.StoreResolver { return r.store }

func (r *root) User() graph.UserResolver { return r.user }

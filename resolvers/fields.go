package resolvers

// Field resolver bodies. schema.resolvers.go is rewritten by gqlgen (which
// drops imports it did not generate), so each of its methods is one call into
// this file.

import (
	"context"
	"strings"

	"github.com/plaza-gateway/plaza/citytz"
	"github.com/plaza-gateway/plaza/connectors"
	"github.com/plaza-gateway/plaza/gateway"
	"github.com/plaza-gateway/plaza/gid"
	"github.com/plaza-gateway/plaza/graph/model"
)

func (r *Resolver) appointmentDoctor(ctx context.Context, obj *model.Appointment) (*model.Doctor, error) {
	return load(ctx, gateway.Doctors.Of(r.loaders(ctx)), gateway.Key{Provider: obj.ProviderID, ID: obj.DoctorID}, toDoctor)
}

func (r *Resolver) consultationDoctor(ctx context.Context, obj *model.Consultation) (*model.Doctor, error) {
	if obj.DoctorID == "" {
		return nil, nil
	}
	return load(ctx, gateway.Doctors.Of(r.loaders(ctx)), gateway.Key{Provider: obj.ProviderID, ID: obj.DoctorID}, toDoctor)
}

func (r *Resolver) doctorSlots(ctx context.Context, obj *model.Doctor, onlyAvailable *bool) ([]*model.AppointmentSlot, error) {
	k, err := decode(obj.ID, gid.Doctor)
	if err != nil {
		return nil, err
	}
	slots, err := loadRaw(ctx, gateway.AppointmentSlots.Of(r.loaders(ctx)), k)
	if err != nil {
		return nil, err
	}
	out := []*model.AppointmentSlot{}
	for _, s := range slots {
		if s.Available || !deref(onlyAvailable) {
			out = append(out, toAppointmentSlot(k.Provider, s))
		}
	}
	return out, nil
}

func (r *Resolver) govServiceOffices(ctx context.Context, obj *model.GovService, city *string) ([]*model.Office, error) {
	if err := checkTexts(textArg{"city", city}); err != nil {
		return nil, err
	}
	k, err := decode(obj.ID, gid.GovService)
	if err != nil {
		return nil, err
	}
	offices, err := loadRaw(ctx, gateway.Offices.Of(r.loaders(ctx)), k)
	if err != nil {
		return nil, err
	}
	out := []*model.Office{}
	for _, o := range offices {
		if city == nil || strings.EqualFold(o.City, *city) {
			out = append(out, toOffice(k.Provider, o))
		}
	}
	return out, nil
}

func (r *Resolver) groceryOrderSlot(ctx context.Context, obj *model.GroceryOrder) (*model.DeliverySlot, error) {
	slots, err := loadRaw(ctx, gateway.DeliverySlots.Of(r.loaders(ctx)), gateway.Key{Provider: obj.ProviderID, ID: obj.StoreID})
	if err != nil {
		return nil, err
	}
	for _, s := range slots {
		if s.ID == obj.SlotID {
			return toDeliverySlot(obj.ProviderID, s), nil
		}
	}
	return nil, nil
}

func (r *Resolver) groceryOrderStore(ctx context.Context, obj *model.GroceryOrder) (*model.Store, error) {
	return load(ctx, gateway.Stores.Of(r.loaders(ctx)), gateway.Key{Provider: obj.ProviderID, ID: obj.StoreID}, toStore)
}

func (r *Resolver) legalConsultationLawyer(ctx context.Context, obj *model.LegalConsultation) (*model.Lawyer, error) {
	return load(ctx, gateway.Lawyers.Of(r.loaders(ctx)), gateway.Key{Provider: obj.ProviderID, ID: obj.LawyerID}, toLawyer)
}

func (r *Resolver) officeSlots(ctx context.Context, obj *model.Office, onlyAvailable *bool) ([]*model.OfficeSlot, error) {
	out := []*model.OfficeSlot{}
	for _, s := range obj.AllSlots {
		if s.Available || !deref(onlyAvailable) {
			out = append(out, s)
		}
	}
	return out, nil
}

func (r *Resolver) orderItemProduct(ctx context.Context, obj *model.OrderItem) (*model.Product, error) {
	l, k := gateway.Products.Of(r.loaders(ctx)), gateway.Key{Provider: obj.ProviderID, ID: obj.ProductID}
	if obj.Product != nil { // converted once per product by the prefetch (relations.go)
		markStale(ctx, l, k)
		return obj.Product, nil
	}
	return load(ctx, l, k, toProduct)
}

func (r *Resolver) productStore(ctx context.Context, obj *model.Product) (*model.Store, error) {
	if obj.Store != nil { // converted once per store by the prefetch, and fresh (relations.go)
		return obj.Store, nil
	}
	return load(ctx, gateway.Stores.Of(r.loaders(ctx)), gateway.Key{Provider: obj.ProviderID, ID: obj.StoreID}, toStore)
}

func (r *Resolver) queryStores(ctx context.Context, city *string, a pageArgs) (*model.StoreConnection, error) {
	if err := checkTexts(textArg{"city", city}); err != nil {
		return nil, err
	}
	edges, pi, n, err := searchPage(ctx, r, searchParams(gid.Store, nil, city), a, func(c string, h gateway.Hit) *model.StoreEdge {
		return &model.StoreEdge{Cursor: c, Node: hitModel[*model.Store](h)}
	})
	if err != nil {
		return nil, err
	}
	return prefetch(ctx, r, &model.StoreConnection{Edges: edges, PageInfo: pi, TotalCount: n}), nil
}

func (r *Resolver) queryProducts(ctx context.Context, text *string, storeID *string, city *string, category *string, a pageArgs) (*model.ProductConnection, error) {
	if err := checkTexts(textArg{"text", text}, textArg{"city", city}, textArg{"category", category}); err != nil {
		return nil, err
	}
	if storeID != nil {
		k, err := decode(*storeID, gid.Store)
		if err != nil {
			return nil, err
		}
		if a.last != nil || a.before != nil {
			return nil, &ArgError{Arg: "last", Err: connectors.Errorf(connectors.KindInvalid,
				"one store's products page forward only (first/after), in the provider's order")}
		}
		conn, err := r.storeProducts(ctx, k, text, a.first, a.after)
		if err != nil {
			return nil, err
		}
		return prefetch(ctx, r, conn), nil
	}
	p := searchParams(gid.Product, text, city)
	p.Category = deref(category)
	edges, pi, n, err := searchPage(ctx, r, p, a, func(c string, h gateway.Hit) *model.ProductEdge {
		return &model.ProductEdge{Cursor: c, Node: hitModel[*model.Product](h)}
	})
	if err != nil {
		return nil, err
	}
	return prefetch(ctx, r, &model.ProductConnection{Edges: edges, PageInfo: pi, TotalCount: n}), nil
}

func (r *Resolver) queryDoctors(ctx context.Context, text *string, city *string, a pageArgs) (*model.DoctorConnection, error) {
	if err := checkTexts(textArg{"text", text}, textArg{"city", city}); err != nil {
		return nil, err
	}
	edges, pi, n, err := searchPage(ctx, r, searchParams(gid.Doctor, text, city), a, func(c string, h gateway.Hit) *model.DoctorEdge {
		return &model.DoctorEdge{Cursor: c, Node: hitModel[*model.Doctor](h)}
	})
	if err != nil {
		return nil, err
	}
	return prefetch(ctx, r, &model.DoctorConnection{Edges: edges, PageInfo: pi, TotalCount: n}), nil
}

func (r *Resolver) queryLawyers(ctx context.Context, text *string, city *string, a pageArgs) (*model.LawyerConnection, error) {
	if err := checkTexts(textArg{"text", text}, textArg{"city", city}); err != nil {
		return nil, err
	}
	edges, pi, n, err := searchPage(ctx, r, searchParams(gid.Lawyer, text, city), a, func(c string, h gateway.Hit) *model.LawyerEdge {
		return &model.LawyerEdge{Cursor: c, Node: hitModel[*model.Lawyer](h)}
	})
	if err != nil {
		return nil, err
	}
	return prefetch(ctx, r, &model.LawyerConnection{Edges: edges, PageInfo: pi, TotalCount: n}), nil
}

func (r *Resolver) queryGovServices(ctx context.Context, text *string, city *string, a pageArgs) (*model.GovServiceConnection, error) {
	if err := checkTexts(textArg{"text", text}, textArg{"city", city}); err != nil {
		return nil, err
	}
	edges, pi, n, err := searchPage(ctx, r, searchParams(gid.GovService, text, city), a, func(c string, h gateway.Hit) *model.GovServiceEdge {
		return &model.GovServiceEdge{Cursor: c, Node: hitModel[*model.GovService](h)}
	})
	if err != nil {
		return nil, err
	}
	return prefetch(ctx, r, &model.GovServiceConnection{Edges: edges, PageInfo: pi, TotalCount: n}), nil
}

func (r *Resolver) queryMe(ctx context.Context) (*model.User, error) {
	me, err := user(ctx)
	if err != nil {
		return nil, err
	}
	return &model.User{ID: gid.Encode(gid.User, userIssuer, me)}, nil
}

func (r *Resolver) serviceApplicationService(ctx context.Context, obj *model.ServiceApplication) (*model.GovService, error) {
	return load(ctx, gateway.Services.Of(r.loaders(ctx)), gateway.Key{Provider: obj.ProviderID, ID: obj.ServiceID}, toService)
}

// applicationOffice finds the application's office among its service's
// offices (the loader is keyed by service, as an order's slot is found
// among its store's slots); nil when the provider no longer lists it.
func (r *Resolver) applicationOffice(ctx context.Context, obj *model.ServiceApplication) (*connectors.Office, error) {
	if obj.OfficeID == "" {
		return nil, nil
	}
	offices, err := loadRaw(ctx, gateway.Offices.Of(r.loaders(ctx)), gateway.Key{Provider: obj.ProviderID, ID: obj.ServiceID})
	if err != nil {
		return nil, err
	}
	for i := range offices {
		if offices[i].ID == obj.OfficeID {
			return &offices[i], nil
		}
	}
	return nil, nil
}

func (r *Resolver) serviceApplicationOffice(ctx context.Context, obj *model.ServiceApplication) (*model.Office, error) {
	o, err := r.applicationOffice(ctx, obj)
	if o == nil || err != nil {
		return nil, err
	}
	return toOffice(obj.ProviderID, *o), nil
}

func (r *Resolver) serviceApplicationVisitSlot(ctx context.Context, obj *model.ServiceApplication) (*model.OfficeSlot, error) {
	o, err := r.applicationOffice(ctx, obj)
	if o == nil || err != nil {
		return nil, err
	}
	for _, s := range o.Slots {
		if s.ID == obj.SlotID {
			return toOfficeSlot(obj.ProviderID, s), nil
		}
	}
	return nil, nil
}

// storeOpenNow reads the store's opening hours in its city's zone at the
// gateway's clock; nil without hours.
func (r *Resolver) storeOpenNow(obj *model.Store) *bool {
	if len(obj.OpeningHours) == 0 {
		return nil
	}
	hours := make([]connectors.OpeningHours, len(obj.OpeningHours))
	for i, h := range obj.OpeningHours {
		hours[i] = connectors.OpeningHours{Day: string(h.Day), Opens: h.Opens, Closes: h.Closes}
	}
	open := connectors.OpenAt(hours, r.gw.Now(), citytz.Location(obj.City))
	return &open
}

func (r *Resolver) storeProductsOf(ctx context.Context, obj *model.Store, text *string, first *int, after *string) (*model.ProductConnection, error) {
	k, err := decode(obj.ID, gid.Store)
	if err != nil {
		return nil, err
	}
	return r.storeProducts(ctx, k, text, first, after)
}

func (r *Resolver) storeDeliverySlots(ctx context.Context, obj *model.Store) ([]*model.DeliverySlot, error) {
	k, err := decode(obj.ID, gid.Store)
	if err != nil {
		return nil, err
	}
	slots, err := loadRaw(ctx, gateway.DeliverySlots.Of(r.loaders(ctx)), k)
	if err != nil {
		return nil, err
	}
	out := make([]*model.DeliverySlot, len(slots))
	for i, s := range slots {
		out[i] = toDeliverySlot(k.Provider, s)
	}
	return out, nil
}

func (r *Resolver) userOrders(ctx context.Context, obj *model.User, first *int, after *string) (*model.GroceryOrderConnection, error) {
	edges, pi, n, err := ownedList(ctx, r, r.gw.UserOrders, first, after, func(c string, s gateway.Sourced[connectors.GroceryOrder]) *model.GroceryOrderEdge {
		return &model.GroceryOrderEdge{Cursor: c, Node: toOrder(s.Provider, s.Value)}
	})
	if err != nil {
		return nil, err
	}
	return prefetch(ctx, r, &model.GroceryOrderConnection{Edges: edges, PageInfo: pi, TotalCount: n}), nil
}

func (r *Resolver) userAppointments(ctx context.Context, obj *model.User, first *int, after *string) (*model.AppointmentConnection, error) {
	edges, pi, n, err := ownedList(ctx, r, r.gw.UserAppointments, first, after, func(c string, s gateway.Sourced[connectors.Appointment]) *model.AppointmentEdge {
		return &model.AppointmentEdge{Cursor: c, Node: toAppointment(s.Provider, s.Value)}
	})
	if err != nil {
		return nil, err
	}
	return prefetch(ctx, r, &model.AppointmentConnection{Edges: edges, PageInfo: pi, TotalCount: n}), nil
}

func (r *Resolver) userConsultations(ctx context.Context, obj *model.User, first *int, after *string) (*model.ConsultationConnection, error) {
	edges, pi, n, err := ownedList(ctx, r, r.gw.UserConsultations, first, after, func(c string, s gateway.Sourced[connectors.Consultation]) *model.ConsultationEdge {
		return &model.ConsultationEdge{Cursor: c, Node: toConsultation(s.Provider, s.Value)}
	})
	if err != nil {
		return nil, err
	}
	return prefetch(ctx, r, &model.ConsultationConnection{Edges: edges, PageInfo: pi, TotalCount: n}), nil
}

func (r *Resolver) userLegalConsultations(ctx context.Context, obj *model.User, first *int, after *string) (*model.LegalConsultationConnection, error) {
	edges, pi, n, err := ownedList(ctx, r, r.gw.UserLegalConsultations, first, after, func(c string, s gateway.Sourced[connectors.LegalConsultation]) *model.LegalConsultationEdge {
		return &model.LegalConsultationEdge{Cursor: c, Node: toLegalConsultation(s.Provider, s.Value)}
	})
	if err != nil {
		return nil, err
	}
	return prefetch(ctx, r, &model.LegalConsultationConnection{Edges: edges, PageInfo: pi, TotalCount: n}), nil
}

func (r *Resolver) userApplications(ctx context.Context, obj *model.User, first *int, after *string) (*model.ServiceApplicationConnection, error) {
	edges, pi, n, err := ownedList(ctx, r, r.gw.UserApplications, first, after, func(c string, s gateway.Sourced[connectors.ServiceApplication]) *model.ServiceApplicationEdge {
		return &model.ServiceApplicationEdge{Cursor: c, Node: toApplication(s.Provider, s.Value)}
	})
	if err != nil {
		return nil, err
	}
	return prefetch(ctx, r, &model.ServiceApplicationConnection{Edges: edges, PageInfo: pi, TotalCount: n}), nil
}

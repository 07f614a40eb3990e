package resolvers

import (
	"github.com/plaza-gateway/plaza/connectors"
	"github.com/plaza-gateway/plaza/gid"
	"github.com/plaza-gateway/plaza/graph/model"
)

// Conversions from the provider contract's canonical types to GraphQL models.
// Local IDs become global IDs here and nowhere else; the hidden *ID fields
// keep the local references that field resolvers load through.

func money(m connectors.Money) *model.Money {
	return &model.Money{Amount: int(m.Amount), Currency: m.Currency}
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func toProvider(d connectors.Descriptor) *model.Provider {
	return &model.Provider{
		ID: gid.Encode(gid.Provider, d.ID, d.ID), Key: d.ID, Name: d.Name,
		Vertical: model.Vertical(d.Vertical), Description: d.Description,
		Rating: d.Rating, Cities: nonNil(d.Cities),
	}
}

func toStore(p string, s connectors.Store) *model.Store {
	return &model.Store{
		ID: gid.Encode(gid.Store, p, s.ID), Name: s.Name, City: s.City, Address: s.Address,
		Rating: s.Rating, Tags: nonNil(s.Tags), ProviderID: p,
	}
}

func toProduct(p string, v connectors.Product) *model.Product {
	return &model.Product{
		ID: gid.Encode(gid.Product, p, v.ID), Name: v.Name, Description: v.Description,
		Category: v.Category, Tags: nonNil(v.Tags), Price: money(v.Price), Unit: v.Unit,
		Stock: v.Stock, InStock: v.Stock > 0, Origin: v.Origin, Rating: v.Rating,
		ProviderID: p, StoreID: v.StoreID,
	}
}

func toDeliverySlot(p string, s connectors.DeliverySlot) *model.DeliverySlot {
	return &model.DeliverySlot{
		ID: gid.Encode(gid.DeliverySlot, p, s.ID), Start: s.Start, End: s.End,
		Capacity: s.Capacity, Remaining: s.Remaining,
	}
}

func toOrder(p string, o connectors.GroceryOrder) *model.GroceryOrder {
	items := make([]*model.OrderItem, len(o.Items))
	for i, it := range o.Items {
		items[i] = &model.OrderItem{
			Quantity: it.Quantity, Price: money(it.UnitPrice),
			LineTotal:  money(connectors.Money{Amount: it.UnitPrice.Amount * int64(it.Quantity), Currency: it.UnitPrice.Currency}),
			ProviderID: p, ProductID: it.ProductID,
		}
	}
	return &model.GroceryOrder{
		ID: gid.Encode(gid.GroceryOrder, p, o.ID), Items: items, Total: money(o.Total),
		Status: o.Status, CreatedAt: o.CreatedAt, ProviderID: p, StoreID: o.StoreID, SlotID: o.SlotID,
	}
}

func toDoctor(p string, d connectors.Doctor) *model.Doctor {
	return &model.Doctor{
		ID: gid.Encode(gid.Doctor, p, d.ID), Name: d.Name, Specialty: d.Specialty,
		Hospital: d.Hospital, Languages: nonNil(d.Languages), Fee: money(d.Fee),
		Rating: d.Rating, City: d.City, Bio: d.Bio, ProviderID: p,
	}
}

func toAppointmentSlot(p string, s connectors.AppointmentSlot) *model.AppointmentSlot {
	return &model.AppointmentSlot{
		ID: gid.Encode(gid.AppointmentSlot, p, s.ID), Start: s.Start, End: s.End, Available: s.Available,
	}
}

func toAppointment(p string, a connectors.Appointment) *model.Appointment {
	return &model.Appointment{
		ID: gid.Encode(gid.Appointment, p, a.ID), Start: a.Start, Reason: a.Reason,
		Status: a.Status, CreatedAt: a.CreatedAt, ProviderID: p, DoctorID: a.DoctorID,
	}
}

func toConsultation(p string, c connectors.Consultation) *model.Consultation {
	m := &model.Consultation{
		ID: gid.Encode(gid.Consultation, p, c.ID), Specialty: c.Specialty, Question: c.Question,
		Status: c.Status, CreatedAt: c.CreatedAt, AnsweredAt: c.AnsweredAt, ProviderID: p, DoctorID: c.DoctorID,
	}
	if c.Answer != "" {
		m.Answer = &c.Answer
	}
	return m
}

func toLawyer(p string, l connectors.Lawyer) *model.Lawyer {
	return &model.Lawyer{
		ID: gid.Encode(gid.Lawyer, p, l.ID), Name: l.Name, PracticeAreas: nonNil(l.PracticeAreas),
		Firm: l.Firm, Languages: nonNil(l.Languages), Fee: money(l.Fee), Rating: l.Rating,
		City: l.City, Bio: l.Bio, ProviderID: p,
	}
}

func toLegalConsultation(p string, c connectors.LegalConsultation) *model.LegalConsultation {
	return &model.LegalConsultation{
		ID: gid.Encode(gid.LegalConsultation, p, c.ID), Topic: c.Topic, Description: c.Description,
		Status: c.Status, ScheduledAt: c.ScheduledAt, CreatedAt: c.CreatedAt, ProviderID: p, LawyerID: c.LawyerID,
	}
}

func toService(p string, s connectors.GovService) *model.GovService {
	return &model.GovService{
		ID: gid.Encode(gid.GovService, p, s.ID), Name: s.Name, Description: s.Description,
		Category: s.Category, Cities: nonNil(s.Cities), RequiredDocuments: nonNil(s.RequiredDocuments),
		Fee: money(s.Fee), ProcessingDays: s.ProcessingDays, Tags: nonNil(s.Tags), Rating: s.Rating,
		ProviderID: p,
	}
}

func toOffice(p string, o connectors.Office) *model.Office {
	slots := make([]*model.OfficeSlot, len(o.Slots))
	for i, s := range o.Slots {
		slots[i] = &model.OfficeSlot{
			ID: gid.Encode(gid.OfficeSlot, p, s.ID), Start: s.Start, End: s.End, Available: s.Available,
		}
	}
	return &model.Office{
		ID: gid.Encode(gid.Office, p, o.ID), Name: o.Name, City: o.City, Address: o.Address, AllSlots: slots,
	}
}

func toApplication(p string, a connectors.ServiceApplication) *model.ServiceApplication {
	return &model.ServiceApplication{
		ID: gid.Encode(gid.ServiceApplication, p, a.ID), Documents: nonNil(a.Documents),
		Status: a.Status, CreatedAt: a.CreatedAt, ProviderID: p, ServiceID: a.ServiceID,
	}
}

// toSearchResult converts a ranked hit to the SearchResult union.
func toSearchResult(h hitValue) model.SearchResult {
	m, _ := toModel(h.Provider, h.Value).(model.SearchResult)
	return m
}

// toModel converts an object a provider returned (a connectors value of a
// declared kind, or a provider's Descriptor) to its GraphQL model; nil for
// any other value. TestKindsMatchSchema checks it covers every kind.
func toModel(provider string, v any) any {
	switch v := v.(type) {
	case connectors.Store:
		return toStore(provider, v)
	case connectors.Product:
		return toProduct(provider, v)
	case connectors.GroceryOrder:
		return toOrder(provider, v)
	case connectors.Doctor:
		return toDoctor(provider, v)
	case connectors.Appointment:
		return toAppointment(provider, v)
	case connectors.Consultation:
		return toConsultation(provider, v)
	case connectors.Lawyer:
		return toLawyer(provider, v)
	case connectors.LegalConsultation:
		return toLegalConsultation(provider, v)
	case connectors.GovService:
		return toService(provider, v)
	case connectors.ServiceApplication:
		return toApplication(provider, v)
	case connectors.Descriptor:
		return toProvider(v)
	}
	return nil
}

// hitValue is what toSearchResult needs of a gateway.Hit.
type hitValue struct {
	Provider string
	Value    any
}

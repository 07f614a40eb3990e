package resolvers

import (
	"reflect"

	"github.com/plaza-gateway/plaza/connectors"
	"github.com/plaza-gateway/plaza/gateway"
	"github.com/plaza-gateway/plaza/gid"
	"github.com/plaza-gateway/plaza/graph/model"
	"github.com/plaza-gateway/plaza/media"
)

// Conversions from the provider contract's canonical types to GraphQL models.
// Local IDs become global IDs here and nowhere else; the hidden *ID fields
// keep the local references that field resolvers load through.

func money(m connectors.Money) *model.Money {
	return &model.Money{Amount: int(m.Amount), Currency: m.Currency}
}

// optMoney converts an optional amount; nil stays nil.
func optMoney(m *connectors.Money) *model.Money {
	if m == nil {
		return nil
	}
	return money(*m)
}

func image(i *connectors.Image) *model.Image {
	if i == nil {
		return nil
	}
	return &model.Image{URL: i.URL, Width: i.Width, Height: i.Height}
}

func images(in []connectors.Image) []*model.Image {
	out := make([]*model.Image, len(in))
	for k := range in {
		out[k] = image(&in[k])
	}
	return out
}

// originalPrice is the price before a discount, or nil when the two
// amounts do not make a discount (another currency, not higher), which the
// conformance kit reports to the provider.
func originalPrice(price connectors.Money, original *connectors.Money) *model.Money {
	if original == nil || connectors.ValidateDiscount(price, original) != nil {
		return nil
	}
	return money(*original)
}

// discountPercent is the percent off the original price, rounded down; 0
// without a discount or when the two amounts do not make one (another
// currency, not higher), which the conformance kit reports to the provider.
func discountPercent(price connectors.Money, original *connectors.Money) int {
	if connectors.ValidateDiscount(price, original) != nil || original == nil {
		return 0
	}
	return int((original.Amount - price.Amount) * 100 / original.Amount)
}

// openingHours converts a store's periods, dropping any the contract does
// not allow (an unknown day, a time that is not HH:MM) rather than failing
// the store.
// openingHours keeps the valid periods, all in one allocation: every store
// of a list is converted, whether or not its hours are asked for.
func openingHours(in []connectors.OpeningHours) []*model.OpeningHours {
	out := make([]*model.OpeningHours, 0, len(in))
	vals := make([]model.OpeningHours, 0, len(in))
	for _, h := range in {
		if h.Validate() == nil {
			vals = append(vals, model.OpeningHours{Day: model.Weekday(h.Day), Opens: h.Opens, Closes: h.Closes})
			out = append(out, &vals[len(vals)-1])
		}
	}
	return out
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func toProvider(d connectors.Descriptor) *model.Provider {
	url, w, h := media.PlaceholderURL(d.Name, 256, 256), 256, 256
	return &model.Provider{
		ID: gid.Encode(gid.Provider, d.ID, d.ID), Key: d.ID, Name: d.Name,
		Vertical: model.Vertical(d.Vertical), Description: d.Description,
		Rating: d.Rating, Cities: nonNil(d.Cities), Logo: &model.Image{URL: url, Width: w, Height: h},
	}
}

var toStore = convert(gateway.Stores, func(p string, s connectors.Store) *model.Store {
	return &model.Store{
		ID: gid.Encode(gid.Store, p, s.ID), Name: s.Name, City: s.City, Address: s.Address,
		Rating: s.Rating, Tags: nonNil(s.Tags), ProviderID: p,
		Logo: image(s.Logo), ReviewCount: s.ReviewCount, OpeningHours: openingHours(s.OpeningHours),
		MinimumOrder: optMoney(s.MinimumOrder), DeliveryFee: optMoney(s.DeliveryFee),
	}
})

var toProduct = convert(gateway.Products, func(p string, v connectors.Product) *model.Product {
	m := &productModel{
		Product: model.Product{
			ID: gid.Encode(gid.Product, p, v.ID), Name: v.Name, Description: v.Description,
			Category: v.Category, Tags: nonNil(v.Tags), Unit: v.Unit,
			Stock: v.Stock, InStock: v.Stock > 0, Origin: v.Origin, Rating: v.Rating,
			ProviderID: p, StoreID: v.StoreID,
			OriginalPrice:   originalPrice(v.Price, v.OriginalPrice),
			DiscountPercent: discountPercent(v.Price, v.OriginalPrice), ReviewCount: v.ReviewCount,
		},
		price: model.Money{Amount: int(v.Price.Amount), Currency: v.Price.Currency},
	}
	m.Price = &m.price
	if len(v.Images) == 1 {
		m.image = model.Image{URL: v.Images[0].URL, Width: v.Images[0].Width, Height: v.Images[0].Height}
		m.images[0] = &m.image
		m.Images = m.images[:]
	} else {
		m.Images = images(v.Images)
	}
	return &m.Product
})

// productModel is a product, its price and its image (when it has one, as
// most do) in one allocation: lists convert one product per item, whether
// or not the images are asked for.
type productModel struct {
	model.Product
	price  model.Money
	image  model.Image
	images [1]*model.Image
}

func toDeliverySlot(p string, s connectors.DeliverySlot) *model.DeliverySlot {
	return &model.DeliverySlot{
		ID: gid.Encode(gid.DeliverySlot, p, s.ID), Start: s.Start, End: s.End,
		Capacity: s.Capacity, Remaining: s.Remaining,
	}
}

var toOrder = convert(gateway.Orders, func(p string, o connectors.GroceryOrder) *model.GroceryOrder {
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
		Status: model.BookingStatus(o.Status), CreatedAt: o.CreatedAt, ProviderID: p, StoreID: o.StoreID, SlotID: o.SlotID,
		DeliveryAddress: toDeliveryAddress(o.DeliveryAddress), DeliveryFee: optMoney(o.DeliveryFee), EstimatedDelivery: o.EstimatedDelivery,
		PaymentDueBy: o.PaymentDueBy,
	}
})

func toDeliveryAddress(a *connectors.DeliveryAddress) *model.DeliveryAddress {
	if a == nil {
		return nil
	}
	return &model.DeliveryAddress{Label: optional(a.Label), Line: a.Line, City: a.City}
}

var toDoctor = convert(gateway.Doctors, func(p string, d connectors.Doctor) *model.Doctor {
	return &model.Doctor{
		ID: gid.Encode(gid.Doctor, p, d.ID), Name: d.Name, Specialty: d.Specialty,
		Hospital: d.Hospital, Languages: nonNil(d.Languages), Fee: money(d.Fee),
		Rating: d.Rating, City: d.City, Bio: d.Bio, ProviderID: p,
		Portrait: image(d.Portrait), ReviewCount: d.ReviewCount,
	}
})

func toAppointmentSlot(p string, s connectors.AppointmentSlot) *model.AppointmentSlot {
	return &model.AppointmentSlot{
		ID: gid.Encode(gid.AppointmentSlot, p, s.ID), Start: s.Start, End: s.End, Available: s.Available,
	}
}

var toAppointment = convert(gateway.Appointments, func(p string, a connectors.Appointment) *model.Appointment {
	return &model.Appointment{
		ID: gid.Encode(gid.Appointment, p, a.ID), Start: a.Start, Reason: a.Reason,
		Status: model.BookingStatus(a.Status), CreatedAt: a.CreatedAt, ProviderID: p, DoctorID: a.DoctorID,
	}
})

var toConsultation = convert(gateway.Consultations, func(p string, c connectors.Consultation) *model.Consultation {
	m := &model.Consultation{
		ID: gid.Encode(gid.Consultation, p, c.ID), Specialty: c.Specialty, Question: c.Question,
		Status: model.BookingStatus(c.Status), CreatedAt: c.CreatedAt, AnsweredAt: c.AnsweredAt, ProviderID: p, DoctorID: c.DoctorID,
	}
	if c.Answer != "" {
		m.Answer = &c.Answer
	}
	return m
})

var toLawyer = convert(gateway.Lawyers, func(p string, l connectors.Lawyer) *model.Lawyer {
	return &model.Lawyer{
		ID: gid.Encode(gid.Lawyer, p, l.ID), Name: l.Name, PracticeAreas: nonNil(l.PracticeAreas),
		Firm: l.Firm, Languages: nonNil(l.Languages), Fee: money(l.Fee), Rating: l.Rating,
		City: l.City, Bio: l.Bio, ProviderID: p,
		Portrait: image(l.Portrait), ReviewCount: l.ReviewCount,
	}
})

var toLegalConsultation = convert(gateway.LegalConsultations, func(p string, c connectors.LegalConsultation) *model.LegalConsultation {
	return &model.LegalConsultation{
		ID: gid.Encode(gid.LegalConsultation, p, c.ID), Topic: c.Topic, Description: c.Description,
		Status: model.BookingStatus(c.Status), ScheduledAt: c.ScheduledAt, CreatedAt: c.CreatedAt, ProviderID: p, LawyerID: c.LawyerID,
	}
})

var toService = convert(gateway.Services, func(p string, s connectors.GovService) *model.GovService {
	return &model.GovService{
		ID: gid.Encode(gid.GovService, p, s.ID), Name: s.Name, Description: s.Description,
		Category: s.Category, Cities: nonNil(s.Cities), RequiredDocuments: nonNil(s.RequiredDocuments),
		Fee: money(s.Fee), ProcessingDays: s.ProcessingDays, Tags: nonNil(s.Tags), Rating: s.Rating,
		ReviewCount: s.ReviewCount, ProviderID: p,
	}
})

func toOfficeSlot(p string, s connectors.OfficeSlot) *model.OfficeSlot {
	return &model.OfficeSlot{
		ID: gid.Encode(gid.OfficeSlot, p, s.ID), Start: s.Start, End: s.End, Available: s.Available,
	}
}

func toOffice(p string, o connectors.Office) *model.Office {
	slots := make([]*model.OfficeSlot, len(o.Slots))
	for i, s := range o.Slots {
		slots[i] = toOfficeSlot(p, s)
	}
	return &model.Office{
		ID: gid.Encode(gid.Office, p, o.ID), Name: o.Name, City: o.City, Address: o.Address, AllSlots: slots,
	}
}

var toApplication = convert(gateway.Applications, func(p string, a connectors.ServiceApplication) *model.ServiceApplication {
	return &model.ServiceApplication{
		ID: gid.Encode(gid.ServiceApplication, p, a.ID), Documents: nonNil(a.Documents),
		Status: model.BookingStatus(a.Status), CreatedAt: a.CreatedAt, ProviderID: p, ServiceID: a.ServiceID,
		OfficeID: a.OfficeID, SlotID: a.SlotID,
	}
})

// models are the model conversions of the declared kinds loaded by their
// own IDs, by the connectors type they convert (each kind loads its own),
// and by a pointer to it (nodes reads values behind pointers).
// Each registers itself where it is defined (convert), so no list or switch
// has to be kept in step with gateway/kinds.go; TestKindsMatchSchema fails,
// naming the kind, when one is missing.
var models = map[reflect.Type]func(provider string, v any) model.Node{}

// convert registers conv as the model conversion of e's kind (for `node`,
// `nodes` and search results) and returns it, for the resolvers that
// convert values they know the type of.
func convert[C connectors.Connector, V any, M model.Node](_ *gateway.Entity[C, V], conv func(provider string, v V) M) func(string, V) M {
	models[reflect.TypeFor[V]()] = func(provider string, v any) model.Node { return conv(provider, v.(V)) }
	models[reflect.TypeFor[*V]()] = func(provider string, v any) model.Node { return conv(provider, *v.(*V)) }
	return conv
}

// toModel converts an object a provider returned (a connectors value of a
// declared kind, or a provider's Descriptor) to its GraphQL model; nil for
// any other value.
func toModel(provider string, v any) model.Node {
	if d, ok := v.(connectors.Descriptor); ok {
		return toProvider(d)
	}
	if conv, ok := models[reflect.TypeOf(v)]; ok {
		return conv(provider, v)
	}
	return nil
}

package connectors

import (
	"fmt"
	"time"
)

// The canonical types below cross the provider contract. IDs are the
// provider's local IDs; the gateway turns them into global IDs.

type Store struct {
	ID      string   `json:"id"`
	Name    string   `json:"name"`
	City    string   `json:"city"`
	Address string   `json:"address"`
	Rating  float64  `json:"rating"`
	Tags    []string `json:"tags"`

	// Display (contract 1.3, optional).
	Logo         *Image         `json:"logo,omitempty"`
	ReviewCount  int            `json:"reviewCount,omitempty"`
	OpeningHours []OpeningHours `json:"openingHours,omitempty"`
	// MinimumOrder is the smallest order total the store delivers.
	MinimumOrder *Money `json:"minimumOrder,omitempty"`
	// DeliveryFee is what an order pays for delivery.
	DeliveryFee *Money `json:"deliveryFee,omitempty"`
}

type Product struct {
	ID          string   `json:"id"`
	StoreID     string   `json:"storeId"`
	Name        string   `json:"name"`
	Description string   `json:"description"`
	Category    string   `json:"category"`
	Tags        []string `json:"tags"`
	Price       Money    `json:"price"`
	Unit        string   `json:"unit"`
	Stock       int      `json:"stock"`
	Origin      string   `json:"origin"`
	Rating      float64  `json:"rating"`
	// City is the city of the store that sells it, for city-aware ranking.
	City string `json:"city"`

	// Display (contract 1.3, optional).
	Images []Image `json:"images,omitempty"`
	// OriginalPrice is the price before a discount; absent without one.
	OriginalPrice *Money `json:"originalPrice,omitempty"`
	ReviewCount   int    `json:"reviewCount,omitempty"`
}

type DeliverySlot struct {
	ID        string    `json:"id"`
	StoreID   string    `json:"storeId"`
	Start     time.Time `json:"start"`
	End       time.Time `json:"end"`
	Capacity  int       `json:"capacity"`
	Remaining int       `json:"remaining"`
}

type OrderItem struct {
	ProductID string `json:"productId"`
	Quantity  int    `json:"quantity"`
	// UnitPrice is the price at the time of the order.
	UnitPrice Money `json:"unitPrice"`
}

// Order statuses shared by the verticals' bookings and orders; statuses.go
// lists which kind may take which.
const (
	StatusPlaced    = "PLACED"
	StatusConfirmed = "CONFIRMED"
	StatusCompleted = "COMPLETED"
	StatusCancelled = "CANCELLED"
	StatusPending   = "PENDING"
	StatusAnswered  = "ANSWERED"
	StatusApproved  = "APPROVED"
	StatusRejected  = "REJECTED"
	// A grocery order on its way: PLACED, PICKING, OUT_FOR_DELIVERY, DELIVERED.
	StatusPicking        = "PICKING"
	StatusOutForDelivery = "OUT_FOR_DELIVERY"
	StatusDelivered      = "DELIVERED"
	// An appointment the patient has arrived for: CONFIRMED, CHECKED_IN, COMPLETED.
	StatusCheckedIn = "CHECKED_IN"
	// A grocery order placed at a provider that takes payment through Plaza
	// (contract 1.4), waiting for payOrder: PLACED once paid, CANCELLED when
	// its PaymentDueBy passes unpaid.
	StatusAwaitingPayment = "AWAITING_PAYMENT"
)

// FinalStatus reports whether an order or booking in status s changes no
// more: a subscription following it completes.
func FinalStatus(s string) bool {
	switch s {
	case StatusDelivered, StatusCompleted, StatusCancelled, StatusRejected, StatusAnswered:
		return true
	}
	return false
}

type GroceryOrder struct {
	ID        string      `json:"id"`
	UserID    string      `json:"userId"`
	StoreID   string      `json:"storeId"`
	SlotID    string      `json:"slotId"`
	Items     []OrderItem `json:"items"`
	Total     Money       `json:"total"`
	Status    string      `json:"status"`
	CreatedAt time.Time   `json:"createdAt"`
	// Delivery (contract 1.3, optional): where to, what delivery costs on
	// top of Total, and when it is expected.
	DeliveryAddress   *DeliveryAddress `json:"deliveryAddress,omitempty"`
	DeliveryFee       *Money           `json:"deliveryFee,omitempty"`
	EstimatedDelivery *time.Time       `json:"estimatedDelivery,omitempty"`
	// PaymentDueBy (contract 1.4, optional) is when an AWAITING_PAYMENT
	// order expires unpaid.
	PaymentDueBy *time.Time `json:"paymentDueBy,omitempty"`
}

// DeliveryAddress is where an order goes.
// String is the amount in major units and the currency, e.g. "49.00 CNY"
// (every currency Plaza's providers use has two minor digits).
func (m Money) String() string {
	sign := ""
	a := m.Amount
	if a < 0 {
		sign, a = "-", -a
	}
	return fmt.Sprintf("%s%d.%02d %s", sign, a/100, a%100, m.Currency)
}

type DeliveryAddress struct {
	Label string `json:"label,omitempty"`
	Line  string `json:"line"`
	City  string `json:"city"`
}

type PlaceOrderInput struct {
	UserID  string          `json:"userId"`
	StoreID string          `json:"storeId"`
	SlotID  string          `json:"slotId"`
	Items   []OrderLineItem `json:"items"`
	// DeliveryAddress (contract 1.3, optional) is echoed on the order.
	DeliveryAddress *DeliveryAddress `json:"deliveryAddress,omitempty"`
	IdempotencyKey  string           `json:"-"`
}

type OrderLineItem struct {
	ProductID string `json:"productId"`
	Quantity  int    `json:"quantity"`
}

type Doctor struct {
	ID        string   `json:"id"`
	Name      string   `json:"name"`
	Specialty string   `json:"specialty"`
	Hospital  string   `json:"hospital"`
	Languages []string `json:"languages"`
	Fee       Money    `json:"fee"`
	Rating    float64  `json:"rating"`
	City      string   `json:"city"`
	Bio       string   `json:"bio"`

	// Display (contract 1.3, optional).
	Portrait    *Image `json:"portrait,omitempty"`
	ReviewCount int    `json:"reviewCount,omitempty"`
}

type AppointmentSlot struct {
	ID        string    `json:"id"`
	DoctorID  string    `json:"doctorId"`
	Start     time.Time `json:"start"`
	End       time.Time `json:"end"`
	Available bool      `json:"available"`
}

type Appointment struct {
	ID        string    `json:"id"`
	UserID    string    `json:"userId"`
	DoctorID  string    `json:"doctorId"`
	SlotID    string    `json:"slotId"`
	Start     time.Time `json:"start"`
	Reason    string    `json:"reason"`
	Status    string    `json:"status"`
	CreatedAt time.Time `json:"createdAt"`
}

type BookAppointmentInput struct {
	UserID         string `json:"userId"`
	DoctorID       string `json:"doctorId"`
	SlotID         string `json:"slotId"`
	Reason         string `json:"reason"`
	IdempotencyKey string `json:"-"`
}

type Consultation struct {
	ID         string     `json:"id"`
	UserID     string     `json:"userId"`
	DoctorID   string     `json:"doctorId,omitempty"`
	Specialty  string     `json:"specialty"`
	Question   string     `json:"question"`
	Answer     string     `json:"answer,omitempty"`
	Status     string     `json:"status"`
	CreatedAt  time.Time  `json:"createdAt"`
	AnsweredAt *time.Time `json:"answeredAt,omitempty"`
}

type AskDoctorInput struct {
	UserID string `json:"userId"`
	// DoctorID is optional: without it the provider routes the question by
	// specialty.
	DoctorID       string `json:"doctorId,omitempty"`
	Specialty      string `json:"specialty"`
	Question       string `json:"question"`
	IdempotencyKey string `json:"-"`
}

type Lawyer struct {
	ID            string   `json:"id"`
	Name          string   `json:"name"`
	PracticeAreas []string `json:"practiceAreas"`
	Firm          string   `json:"firm"`
	Languages     []string `json:"languages"`
	Fee           Money    `json:"fee"`
	Rating        float64  `json:"rating"`
	City          string   `json:"city"`
	Bio           string   `json:"bio"`

	// Display (contract 1.3, optional).
	Portrait    *Image `json:"portrait,omitempty"`
	ReviewCount int    `json:"reviewCount,omitempty"`
}

type LegalConsultation struct {
	ID          string     `json:"id"`
	UserID      string     `json:"userId"`
	LawyerID    string     `json:"lawyerId"`
	Topic       string     `json:"topic"`
	Description string     `json:"description"`
	Status      string     `json:"status"`
	ScheduledAt *time.Time `json:"scheduledAt,omitempty"`
	CreatedAt   time.Time  `json:"createdAt"`
}

type LegalConsultationInput struct {
	UserID         string `json:"userId"`
	LawyerID       string `json:"lawyerId"`
	Topic          string `json:"topic"`
	Description    string `json:"description"`
	IdempotencyKey string `json:"-"`
}

type GovService struct {
	ID                string   `json:"id"`
	Name              string   `json:"name"`
	Description       string   `json:"description"`
	Category          string   `json:"category"`
	Cities            []string `json:"cities"`
	RequiredDocuments []string `json:"requiredDocuments"`
	Fee               Money    `json:"fee"`
	ProcessingDays    int      `json:"processingDays"`
	Tags              []string `json:"tags"`
	Rating            float64  `json:"rating"`

	// Display (contract 1.3, optional).
	ReviewCount int `json:"reviewCount,omitempty"`
}

type Office struct {
	ID      string       `json:"id"`
	Name    string       `json:"name"`
	City    string       `json:"city"`
	Address string       `json:"address"`
	Slots   []OfficeSlot `json:"slots"`
}

type OfficeSlot struct {
	ID        string    `json:"id"`
	OfficeID  string    `json:"officeId"`
	Start     time.Time `json:"start"`
	End       time.Time `json:"end"`
	Available bool      `json:"available"`
}

type ServiceApplication struct {
	ID        string    `json:"id"`
	UserID    string    `json:"userId"`
	ServiceID string    `json:"serviceId"`
	OfficeID  string    `json:"officeId"`
	SlotID    string    `json:"slotId"`
	Documents []string  `json:"documents"`
	Status    string    `json:"status"`
	CreatedAt time.Time `json:"createdAt"`
}

type ApplicationInput struct {
	UserID         string   `json:"userId"`
	ServiceID      string   `json:"serviceId"`
	OfficeID       string   `json:"officeId"`
	SlotID         string   `json:"slotId"`
	Documents      []string `json:"documents"`
	IdempotencyKey string   `json:"-"`
}

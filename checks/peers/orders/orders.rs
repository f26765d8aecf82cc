//! The JSON workload of `faas-check bench`: a batch of orders (about 512 KB of JSON, made by
//! checks/peers/orders/make_event.py) deserialized into typed structs, priced, and answered
//! with a per-order summary. The same file is compiled into our function
//! (checks/peers/ours) and lambda_runtime's (checks/peers/lambda-runtime), so the two differ
//! only in the runtime around the handler. Integer arithmetic only: make_event.py computes
//! the expected answer exactly.

// Every field is deserialized, as a real handler's typed event is; not all are read.
#![allow(dead_code)]

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The event: one batch of orders.
#[derive(Deserialize)]
pub struct Batch {
    pub batch_id: String,
    pub created_at: String,
    pub orders: Vec<Order>,
}

#[derive(Deserialize)]
pub struct Order {
    pub id: u64,
    pub status: Status,
    pub customer: Customer,
    pub items: Vec<Item>,
    pub coupon: Option<String>,
    pub tags: Vec<String>,
    pub note: String,
}

#[derive(Deserialize, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Pending,
    Paid,
    Shipped,
    Cancelled,
}

#[derive(Deserialize)]
pub struct Customer {
    pub id: u64,
    pub name: String,
    pub email: String,
    pub vip: bool,
    pub address: Address,
}

#[derive(Deserialize)]
pub struct Address {
    pub street: String,
    pub city: String,
    pub postcode: String,
    pub country: String,
}

#[derive(Deserialize)]
pub struct Item {
    pub sku: String,
    pub quantity: u32,
    pub unit_price_cents: u64,
    pub discount_pct: u8,
}

/// The response.
#[derive(Serialize)]
pub struct Summary {
    pub batch_id: String,
    pub orders: usize,
    pub items: u64,
    /// Sum of the order totals, cancelled orders left out.
    pub revenue_cents: u64,
    /// Revenue per customer country.
    pub by_country: BTreeMap<String, u64>,
    pub totals: Vec<OrderTotal>,
}

#[derive(Serialize)]
pub struct OrderTotal {
    pub id: u64,
    pub customer: String,
    pub total_cents: u64,
    pub vip: bool,
    pub cancelled: bool,
}

/// Prices every order: a line costs quantity * unit price, less its discount (rounded down).
pub fn summarize(batch: Batch) -> Summary {
    let mut summary = Summary {
        batch_id: batch.batch_id,
        orders: batch.orders.len(),
        items: 0,
        revenue_cents: 0,
        by_country: BTreeMap::new(),
        totals: Vec::with_capacity(batch.orders.len()),
    };
    for order in batch.orders {
        let total: u64 = order
            .items
            .iter()
            .map(|i| {
                u64::from(i.quantity) * i.unit_price_cents * (100 - u64::from(i.discount_pct)) / 100
            })
            .sum();
        summary.items += order
            .items
            .iter()
            .map(|i| u64::from(i.quantity))
            .sum::<u64>();
        let cancelled = order.status == Status::Cancelled;
        if !cancelled {
            summary.revenue_cents += total;
            *summary
                .by_country
                .entry(order.customer.address.country)
                .or_default() += total;
        }
        summary.totals.push(OrderTotal {
            id: order.id,
            customer: order.customer.email,
            total_cents: total,
            vip: order.customer.vip,
            cancelled,
        });
    }
    summary
}

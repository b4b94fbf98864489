-- The shop's operational database (issue 23): schema `shop`, the tables an e-commerce application keeps
-- (shapes of the public Olist e-commerce and marketing-funnel data sets). Applied once, in one transaction,
-- by ingestion.shopdb.ensure_database, as the database's owner.
--
-- Every table has `updated_at timestamptz not null`: the application sets it on every insert and update (the
-- simulator to its simulated clock). The trigger `touch_updated_at` sets it to clock_timestamp() on an UPDATE
-- that leaves it unchanged, so a change that forgets it is still seen by an extraction. Every table has an
-- index on (updated_at, <primary key>): the extraction's cursor order.
--
-- Deletes: order_items (a line removed before approval), campaign_spend (a day restated: delete + insert)
-- and leads (spam) are deleted for real; order_reviews are soft-deleted (deleted_at).
-- No foreign keys, like the Olist dumps: the lake tests the relationships.

create schema shop;

create function shop.touch_updated_at() returns trigger
language plpgsql as $$
begin
    if new.updated_at is not distinct from old.updated_at then
        new.updated_at := clock_timestamp();
    end if;
    return new;
end $$;

create table shop.customers (
    customer_id text primary key,
    customer_unique_id text not null,
    customer_name text,
    email text,
    zip_code_prefix text,
    city text,
    state text,
    created_at timestamptz not null,
    updated_at timestamptz not null
);

create table shop.sellers (
    seller_id text primary key,
    seller_name text,
    zip_code_prefix text,
    city text,
    state text,
    created_at timestamptz not null,
    updated_at timestamptz not null
);

create table shop.products (
    product_id text primary key,
    category text,
    product_name text,
    weight_g int,
    length_cm int,
    height_cm int,
    width_cm int,
    list_price numeric(12, 2),
    created_at timestamptz not null,
    updated_at timestamptz not null
);

create table shop.orders (
    order_id text primary key,
    customer_id text not null,
    status text not null check (status in ('created', 'approved', 'shipped', 'delivered', 'canceled')),
    purchased_at timestamptz not null,
    approved_at timestamptz,
    shipped_at timestamptz,
    delivered_at timestamptz,
    canceled_at timestamptz,
    estimated_delivery_date date,
    updated_at timestamptz not null
);

create table shop.order_items (
    order_id text not null,
    order_item_id int not null,
    product_id text not null,
    seller_id text not null,
    shipping_limit_at timestamptz,
    price numeric(12, 2) not null,
    freight_value numeric(12, 2) not null,
    updated_at timestamptz not null,
    primary key (order_id, order_item_id)
);

create table shop.order_payments (
    order_id text not null,
    payment_sequential int not null,
    payment_type text not null check (payment_type in ('credit_card', 'boleto', 'voucher', 'debit_card')),
    payment_installments int not null,
    payment_value numeric(12, 2) not null,
    updated_at timestamptz not null,
    primary key (order_id, payment_sequential)
);

create table shop.order_reviews (
    review_id text primary key,
    order_id text not null,
    review_score int not null check (review_score between 1 and 5),
    comment_title text,
    comment_message text,
    created_at timestamptz not null,
    answered_at timestamptz,
    updated_at timestamptz not null,
    deleted_at timestamptz
);

create table shop.inventory_movements (
    movement_id bigint primary key,
    product_id text not null,
    movement_type text not null check (movement_type in ('receipt', 'sale', 'return', 'adjustment')),
    quantity int not null,
    occurred_at timestamptz not null,
    order_id text,
    updated_at timestamptz not null
);

create table shop.campaigns (
    campaign_id text primary key,
    campaign_name text not null,
    channel text not null,
    campaign_code text not null,
    start_date date not null,
    end_date date,
    daily_budget numeric(12, 2),
    updated_at timestamptz not null
);

create table shop.campaign_spend (
    campaign_id text not null,
    spend_date date not null,
    spend numeric(12, 2) not null,
    impressions int not null,
    clicks int not null,
    updated_at timestamptz not null,
    primary key (campaign_id, spend_date)
);

create table shop.leads (
    mql_id text primary key,
    first_contact_date date not null,
    landing_page_id text,
    origin text,
    updated_at timestamptz not null
);

create table shop.closed_deals (
    mql_id text primary key,
    seller_id text not null,
    won_date date not null,
    business_segment text,
    lead_type text,
    declared_monthly_revenue numeric(12, 2),
    updated_at timestamptz not null
);

-- the extraction's cursor order: (updated_at, primary key)
create index customers_updated_at on shop.customers (updated_at, customer_id);
create index sellers_updated_at on shop.sellers (updated_at, seller_id);
create index products_updated_at on shop.products (updated_at, product_id);
create index orders_updated_at on shop.orders (updated_at, order_id);
create index order_items_updated_at on shop.order_items (updated_at, order_id, order_item_id);
create index order_payments_updated_at on shop.order_payments (updated_at, order_id, payment_sequential);
create index order_reviews_updated_at on shop.order_reviews (updated_at, review_id);
create index inventory_movements_updated_at on shop.inventory_movements (updated_at, movement_id);
create index campaigns_updated_at on shop.campaigns (updated_at, campaign_id);
create index campaign_spend_updated_at on shop.campaign_spend (updated_at, campaign_id, spend_date);
create index leads_updated_at on shop.leads (updated_at, mql_id);
create index closed_deals_updated_at on shop.closed_deals (updated_at, mql_id);

-- what the application looks up (open orders by status, reviews and movements by order)
create index orders_status on shop.orders (status) where status in ('created', 'approved', 'shipped');
create index order_reviews_order on shop.order_reviews (order_id);
create index inventory_movements_product on shop.inventory_movements (product_id, occurred_at);

create trigger touch_updated_at before update on shop.customers
for each row execute function shop.touch_updated_at();
create trigger touch_updated_at before update on shop.sellers
for each row execute function shop.touch_updated_at();
create trigger touch_updated_at before update on shop.products
for each row execute function shop.touch_updated_at();
create trigger touch_updated_at before update on shop.orders
for each row execute function shop.touch_updated_at();
create trigger touch_updated_at before update on shop.order_items
for each row execute function shop.touch_updated_at();
create trigger touch_updated_at before update on shop.order_payments
for each row execute function shop.touch_updated_at();
create trigger touch_updated_at before update on shop.order_reviews
for each row execute function shop.touch_updated_at();
create trigger touch_updated_at before update on shop.inventory_movements
for each row execute function shop.touch_updated_at();
create trigger touch_updated_at before update on shop.campaigns
for each row execute function shop.touch_updated_at();
create trigger touch_updated_at before update on shop.campaign_spend
for each row execute function shop.touch_updated_at();
create trigger touch_updated_at before update on shop.leads
for each row execute function shop.touch_updated_at();
create trigger touch_updated_at before update on shop.closed_deals
for each row execute function shop.touch_updated_at();

with

source as (

    select * from {{ source('raw', 'order_lines') }}

),

renamed as (

    select
        ---------- ids
        nullif(upper(trim(invoice_no)), '') as invoice_no,
        nullif(upper(trim(stock_code)), '') as stock_code,
        -- the UCI files carry customer ids as floats ('12346.0')
        nullif(regexp_replace(trim(customer_id), '\\.0+$', ''), '') as customer_id,
        nullif(upper(trim(country_id)), '') as country_id,

        ---------- text
        nullif(trim(description), '') as line_description,
        nullif(trim(source_layout), '') as source_layout,
        -- what the line is: a product sale (the generated shop lands none), postage, a fee, a discount, ...
        coalesce(nullif(lower(trim(line_type)), ''), 'sale') as line_type,
        -- the currency the file's prices are in, as declared by its layout or a column (null: GBP)
        nullif(upper(trim(currency)), '') as price_currency_code,
        -- how the file writes slash dates, as declared by its layout
        nullif(lower(trim(date_order)), '') as declared_date_order,

        ---------- numerics
        try_cast(trim(quantity) as bigint) as quantity,
        try_cast(trim(unit_price) as decimal(18, 4)) as charged_unit_price,

        ---------- dates
        trim(invoice_date) as invoice_date_raw,

        ---------- raw payload (business columns as landed)
        to_json(named_struct(
            'invoice_no', invoice_no,
            'stock_code', stock_code,
            'quantity', quantity,
            'invoice_date', invoice_date,
            'customer_id', customer_id,
            'country_id', country_id,
            'description', description,
            'unit_price', unit_price,
            'source_layout', source_layout,
            'line_type', line_type,
            'currency', currency,
            'date_order', date_order
        )) as raw_payload,

        ---------- lineage
        batch_id as _batch_id,
        _source_file,
        _row_number,
        _ingested_at

    from source

),

dates_read as (

    select
        *,
        {{ parse_unambiguous_timestamp('invoice_date_raw') }} as unambiguous_ts,
        {{ parse_slash_timestamp('invoice_date_raw', 'day_first') }} as day_first_ts,
        {{ parse_slash_timestamp('invoice_date_raw', 'month_first') }} as month_first_ts,
        -- the file's own declaration first, then the var (per source_layout, or its default)
        coalesce(declared_date_order, {{ slash_date_order('source_layout') }}) as declared_slash_order
    from renamed

),

dates_resolved as (

    select
        *,
        day_first_ts is not null
        and month_first_ts is not null
        and day_first_ts <> month_first_ts as has_two_readings,
        coalesce(
            unambiguous_ts,
            case
                when day_first_ts is null or month_first_ts is null or day_first_ts = month_first_ts
                    then coalesce(day_first_ts, month_first_ts)
                when declared_slash_order = 'day_first' then day_first_ts
                when declared_slash_order = 'month_first' then month_first_ts
            end
        ) as parsed_ts
    from dates_read

),

flagged as (

    select
        ---------- keys
        {{ hash_key([
            'invoice_no', 'stock_code', 'quantity',
            'coalesce(cast(parsed_ts as string), invoice_date_raw)',
            'customer_id', 'country_id', 'charged_unit_price',
        ]) }} as order_line_key,

        ---------- ids
        invoice_no,
        stock_code,
        customer_id,
        country_id,

        ---------- attributes
        line_description,
        source_layout,
        line_type,
        price_currency_code,
        quantity,
        charged_unit_price,
        coalesce(invoice_no like 'C%', false) as is_cancellation,

        ---------- dates (1900-01-01 marks a date that could not be read)
        invoice_date_raw,
        coalesce(parsed_ts, timestamp '1900-01-01 00:00:00') as invoice_ts,
        parsed_ts is null and not has_two_readings as is_date_error,
        parsed_ts is null and has_two_readings as is_date_ambiguous,

        ---------- lineage
        raw_payload,
        _batch_id,
        _source_file,
        _row_number,
        _ingested_at

    from dates_resolved

),

deduplicated_in_batch as (

    select
        *,
        row_number() over (
            partition by _batch_id, order_line_key
            order by _row_number
        ) > 1 as is_duplicate_in_batch
    from flagged

)

select * from deduplicated_in_batch

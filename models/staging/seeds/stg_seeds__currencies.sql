with

source as (

    select * from {{ ref('currencies') }}

),

renamed as (

    select
        ---------- ids
        upper(trim(currency_code)) as currency_code,

        ---------- text
        trim(currency_name) as currency_name,
        symbol,

        ---------- numerics
        cast(minor_units as int) as minor_units

    from source

)

select * from renamed

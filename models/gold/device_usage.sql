with

devices as (

    select * from {{ gold_mart('mart_device_usage') }}

)

select
    device_type,
    browser_family as browser,
    os_family as operating_system,
    sessions,
    visitors,
    converted_sessions,
    conversion_rate,
    share_of_sessions
from devices

//! diesel table definitions, written by hand to match both migration trees.

diesel::table! {
    users (id) {
        id -> BigInt,
        nickname -> Text,
        real_name -> Nullable<Text>,
        avatar_url -> Nullable<Text>,
        gender -> Integer,
        age -> Nullable<Text>,
        birth_decade -> Nullable<Text>,
        signature -> Nullable<Text>,
        contact_phone -> Nullable<Text>,
        country -> Nullable<Text>,
        province -> Nullable<Text>,
        city -> Nullable<Text>,
        district -> Nullable<Text>,
        street -> Nullable<Text>,
        company -> Nullable<Text>,
        company_logo -> Nullable<Text>,
        company_address -> Nullable<Text>,
        industry -> Nullable<Text>,
        job_title -> Nullable<Text>,
        education -> Nullable<Text>,
        school -> Nullable<Text>,
        identity_card -> Nullable<Text>,
        qq_number -> Nullable<Text>,
        recommender_id -> Nullable<BigInt>,
        recommender_raw -> Nullable<Text>,
        profile_completed -> Bool,
        role -> Integer,
        banned -> Bool,
        push_enabled -> Bool,
        im_token -> Nullable<Text>,
        created_at -> BigInt,
        updated_at -> BigInt,
    }
}

diesel::table! {
    phone_identities (region, number) {
        region -> Text,
        number -> Text,
        user_id -> BigInt,
    }
}

diesel::table! {
    username_identities (username_key) {
        username_key -> Text,
        username -> Text,
        user_id -> BigInt,
    }
}

diesel::table! {
    credentials (user_id) {
        user_id -> BigInt,
        password_hash -> Text,
        failed_attempts -> Integer,
        locked_until -> BigInt,
        last_login_at -> Nullable<BigInt>,
        updated_at -> BigInt,
    }
}

diesel::table! {
    sessions (token_hash) {
        token_hash -> Text,
        user_id -> BigInt,
        dialect -> Text,
        client_id -> Nullable<Text>,
        created_at -> BigInt,
        expires_at -> BigInt,
    }
}

diesel::table! {
    sms_codes (region, phone, purpose) {
        region -> Text,
        phone -> Text,
        purpose -> Text,
        code -> Text,
        sent_at -> BigInt,
        expires_at -> BigInt,
        failed_attempts -> Integer,
        consumed -> Bool,
    }
}

diesel::table! {
    verification_tickets (ticket) {
        ticket -> Text,
        region -> Text,
        phone -> Text,
        purpose -> Text,
        created_at -> BigInt,
        expires_at -> BigInt,
    }
}

diesel::table! {
    image_codes (verify_id) {
        verify_id -> Text,
        code -> Text,
        created_at -> BigInt,
        expires_at -> BigInt,
    }
}

diesel::table! {
    throttle_counters (scope, subject, window_start) {
        scope -> Text,
        subject -> Text,
        window_start -> BigInt,
        hits -> Integer,
    }
}

diesel::table! {
    sms_outbox (id) {
        id -> BigInt,
        region -> Text,
        phone -> Text,
        code -> Text,
        purpose -> Text,
        dialect -> Text,
        message -> Text,
        sent_at -> BigInt,
        provider -> Text,
        outcome -> Text,
        message_id -> Nullable<Text>,
        request_id -> Nullable<Text>,
        detail -> Nullable<Text>,
    }
}

diesel::table! {
    blacklist (user_id, target_id) {
        user_id -> BigInt,
        target_id -> BigInt,
        active -> Bool,
        updated_at -> BigInt,
    }
}

diesel::table! {
    friendships (user_id, friend_id) {
        user_id -> BigInt,
        friend_id -> BigInt,
        display_name -> Text,
        message -> Text,
        status -> Integer,
        updated_at -> BigInt,
    }
}

diesel::table! {
    chat_groups (id) {
        id -> BigInt,
        name -> Text,
        portrait_uri -> Text,
        creator_id -> BigInt,
        bulletin -> Nullable<Text>,
        max_member_count -> Integer,
        deleted -> Bool,
        created_at -> BigInt,
        updated_at -> BigInt,
    }
}

diesel::table! {
    group_members (group_id, user_id) {
        group_id -> BigInt,
        user_id -> BigInt,
        display_name -> Text,
        role -> Integer,
        notify_mode -> Integer,
        deleted -> Bool,
        updated_at -> BigInt,
    }
}

diesel::table! {
    data_versions (user_id) {
        user_id -> BigInt,
        user_version -> BigInt,
        blacklist_version -> BigInt,
        friendship_version -> BigInt,
        group_version -> BigInt,
        group_member_version -> BigInt,
    }
}

diesel::table! {
    avatars (user_id) {
        user_id -> BigInt,
        format -> Text,
        bytes -> Binary,
        updated_at -> BigInt,
    }
}

diesel::table! {
    login_failures (user_id, address) {
        user_id -> BigInt,
        address -> Text,
        failures -> Integer,
        locked_until -> BigInt,
        updated_at -> BigInt,
    }
}

diesel::joinable!(phone_identities -> users (user_id));
diesel::joinable!(username_identities -> users (user_id));
diesel::joinable!(credentials -> users (user_id));
diesel::joinable!(sessions -> users (user_id));
diesel::joinable!(group_members -> chat_groups (group_id));

diesel::allow_tables_to_appear_in_same_query!(
    users,
    phone_identities,
    username_identities,
    credentials,
    sessions,
    sms_codes,
    verification_tickets,
    image_codes,
    throttle_counters,
    sms_outbox,
    blacklist,
    friendships,
    chat_groups,
    group_members,
    data_versions,
    avatars,
    login_failures,
);

diesel::table! {
    copy_progress (item) {
        item -> Text,
        value -> Text,
    }
}

diesel::table! {
    dialect_modes (dialect) {
        dialect -> Text,
        mode -> Text,
        legacy_url -> Nullable<Text>,
        changed_at -> BigInt,
    }
}

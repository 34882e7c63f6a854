//! update_profile_data / remove_profile_data: the customer link and the userId, seen
//! through the compatible API.

use crate::support::{Device, Server};
use profilestore_sdk::{DeviceProfile, ProfileParam};

async fn registered(server: &Server) -> Device {
    let device = Device::new(server);
    device
        .sdk
        .register(DeviceProfile::new("d1", "ann"))
        .await
        .unwrap();
    device
}

#[tokio::test]
async fn a_linked_customer_shows_in_the_compatible_api_and_goes_when_unlinked() {
    let server = Server::start();
    let device = registered(&server).await;

    let linked = device
        .sdk
        .update_profile_data(ProfileParam::CustomerId, "C-1")
        .await
        .unwrap();

    assert_eq!(linked.customer_id.as_deref(), Some("C-1"));
    let (install, answer) = server.install_of("ann").await;
    assert_eq!(install["customerId"], "C-1");
    let link = &answer["Records"][0]["OutwardLinks"][0]["Records"][0];
    assert!(
        link.as_array()
            .unwrap()
            .iter()
            .any(|a| a["Name"] == "customerId" && a["Value"] == "C-1"),
        "{answer}"
    );
    let (status, customer) = server
        .compat_get("/resources/v2/customerprofile/C-1?showinwardlinks=1")
        .await;
    assert_eq!(status, 200, "{customer}");
    assert_eq!(
        customer["Records"][0]["InwardLinks"][0]["AppId"],
        server.app_id.as_str()
    );

    let unlinked = device
        .sdk
        .remove_profile_data(ProfileParam::CustomerId)
        .await
        .unwrap();

    assert_eq!(unlinked.customer_id, None);
    let (install, answer) = server.install_of("ann").await;
    assert_eq!(install["customerId"], "");
    assert_eq!(answer["Records"][0]["OutwardLinks"], serde_json::json!([]));
    let types: Vec<_> = server
        .events()
        .await
        .iter()
        .map(|e| (e["type"].clone(), e["device_event"].clone()))
        .filter(|(kind, _)| kind.as_str().is_some_and(|k| k.contains("linked")))
        .collect();
    assert_eq!(
        types,
        vec![
            ("app_profile.linked".into(), "setCustomerId".into()),
            ("app_profile.unlinked".into(), "removeCustomerId".into())
        ]
    );
}

#[tokio::test]
async fn a_new_user_id_moves_the_install_with_its_link() {
    let server = Server::start();
    let device = registered(&server).await;
    device
        .sdk
        .update_profile_data(ProfileParam::CustomerId, "C-1")
        .await
        .unwrap();

    let moved = device
        .sdk
        .update_profile_data(ProfileParam::UserId, "bob")
        .await
        .unwrap();

    assert_eq!(moved.user_id, "bob");
    assert_eq!(moved.client_id, format!("{}/bob/d1", server.app_id));
    let (install, _) = server.install_of("bob").await;
    assert_eq!(install["customerId"], "C-1");
    let (gone, _) = server.install_of("ann").await;
    assert!(gone.is_empty(), "{gone:?}");

    let guest = device
        .sdk
        .remove_profile_data(ProfileParam::UserId)
        .await
        .unwrap();

    assert!(guest.user_id.starts_with("sys-"), "{}", guest.user_id);
    assert!(guest.is_guest);
    let (install, _) = server.install_of(&guest.user_id).await;
    assert_eq!(install["guest"], "true");
    assert_eq!(install["customerId"], "C-1");
}

//! DataLoaders, built per request so no cache outlives a request or crosses users.

use std::collections::HashMap;

use async_graphql::dataloader::{DataLoader, Loader};
use entity::{enums::ProgramRole, program_member, user};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use uuid::Uuid;

use crate::auth::Viewer;
use crate::domain::Domain;
use crate::error::ApiError;

/// Every loader of one request.
pub struct Loaders {
    /// Users by id.
    pub users: DataLoader<UserLoader>,
    /// The viewer's role per program.
    pub viewer_roles: DataLoader<ViewerRoleLoader>,
    /// Members per program.
    pub members: DataLoader<MembersLoader>,
}

impl Loaders {
    /// Fresh loaders for one request by `viewer`.
    pub fn new(domain: &Domain, viewer: &Viewer) -> Self {
        Self {
            users: DataLoader::new(UserLoader(domain.clone()), tokio::spawn),
            viewer_roles: DataLoader::new(
                ViewerRoleLoader {
                    domain: domain.clone(),
                    user_id: viewer.user.as_ref().map(|user| user.id),
                },
                tokio::spawn,
            ),
            members: DataLoader::new(MembersLoader(domain.clone()), tokio::spawn),
        }
    }
}

/// Loads users by id.
pub struct UserLoader(Domain);

impl Loader<Uuid> for UserLoader {
    type Value = user::Model;
    type Error = ApiError;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, Self::Error> {
        self.0.users_by_ids(keys).await
    }
}

/// Loads the viewer's membership role per program id.
pub struct ViewerRoleLoader {
    domain: Domain,
    user_id: Option<Uuid>,
}

impl Loader<Uuid> for ViewerRoleLoader {
    type Value = ProgramRole;
    type Error = ApiError;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, Self::Error> {
        let Some(user_id) = self.user_id else {
            return Ok(HashMap::new());
        };
        if keys.is_empty() {
            return Ok(HashMap::new());
        }
        Ok(program_member::Entity::find()
            .filter(program_member::Column::UserId.eq(user_id))
            .filter(program_member::Column::ProgramId.is_in(keys.iter().copied()))
            .all(&self.domain.db)
            .await?
            .into_iter()
            .map(|member| (member.program_id, member.role))
            .collect())
    }
}

/// Loads the members of programs; callers have already checked visibility.
pub struct MembersLoader(Domain);

impl Loader<Uuid> for MembersLoader {
    type Value = Vec<program_member::Model>;
    type Error = ApiError;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, Self::Error> {
        if keys.is_empty() {
            return Ok(HashMap::new());
        }
        let mut grouped: HashMap<Uuid, Vec<program_member::Model>> = HashMap::new();
        for member in program_member::Entity::find()
            .filter(program_member::Column::ProgramId.is_in(keys.iter().copied()))
            .order_by_asc(program_member::Column::CreatedAt)
            .order_by_asc(program_member::Column::Id)
            .all(&self.0.db)
            .await?
        {
            grouped.entry(member.program_id).or_default().push(member);
        }
        Ok(grouped)
    }
}

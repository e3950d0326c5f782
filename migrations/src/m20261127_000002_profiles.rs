//! Directory profiles: HR-owned fields (names, employee number, title, department, location,
//! manager) and person-owned ones (preferred name, phone, skills, languages, bio, photo).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum People {
    Table,
    Id,
    EmployeeId,
    GivenName,
    FamilyName,
    PreferredName,
    Title,
    Department,
    Location,
    ManagerId,
    Phone,
    Skills,
    Languages,
    Bio,
    PhotoVersion,
    StartDate,
    SortName,
}

fn add(column: &mut ColumnDef) -> TableAlterStatement {
    Table::alter()
        .table(People::Table)
        .add_column(column)
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite alters a table one change at a time.
        let columns = [
            add(ColumnDef::new(People::EmployeeId).string_len(64).null()),
            add(ColumnDef::new(People::GivenName)
                .string_len(100)
                .not_null()
                .default("")),
            add(ColumnDef::new(People::FamilyName)
                .string_len(150)
                .not_null()
                .default("")),
            add(ColumnDef::new(People::PreferredName).string_len(100).null()),
            add(ColumnDef::new(People::Title).string_len(200).null()),
            add(ColumnDef::new(People::Department).string_len(200).null()),
            add(ColumnDef::new(People::Location).string_len(200).null()),
            add(ColumnDef::new(People::ManagerId).uuid().null()),
            add(ColumnDef::new(People::Phone).string_len(64).null()),
            add(ColumnDef::new(People::Skills)
                .text()
                .not_null()
                .default("[]")),
            add(ColumnDef::new(People::Languages)
                .text()
                .not_null()
                .default("[]")),
            add(ColumnDef::new(People::Bio).text().null()),
            add(ColumnDef::new(People::PhotoVersion).string_len(64).null()),
            add(ColumnDef::new(People::StartDate).date().null()),
            add(ColumnDef::new(People::SortName)
                .string_len(300)
                .not_null()
                .default("")),
        ];
        for statement in columns {
            manager.alter_table(statement).await?;
        }
        manager
            .create_index(
                Index::create()
                    .name("idx_people_employee_id")
                    .table(People::Table)
                    .col(People::EmployeeId)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_people_manager")
                    .table(People::Table)
                    .col(People::ManagerId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_people_directory_order")
                    .table(People::Table)
                    .col(People::SortName)
                    .col(People::Id)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for name in [
            "idx_people_directory_order",
            "idx_people_manager",
            "idx_people_employee_id",
        ] {
            manager
                .drop_index(Index::drop().name(name).table(People::Table).to_owned())
                .await?;
        }
        for column in [
            People::SortName,
            People::StartDate,
            People::PhotoVersion,
            People::Bio,
            People::Languages,
            People::Skills,
            People::Phone,
            People::ManagerId,
            People::Location,
            People::Department,
            People::Title,
            People::PreferredName,
            People::FamilyName,
            People::GivenName,
            People::EmployeeId,
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(People::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
